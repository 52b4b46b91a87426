import { apiKey, checkKey } from "../api.js";
import { h } from "../dom.js";

// Locally the console signs in with the API key `make run` prints (x-api-key); Cognito sign-in in the
// stack is still to come. The key is kept in sessionStorage only.
export function renderSignIn(main, onSignedIn) {
  document.title = "Sign in - OMS console";
  const input = h("input", {
    id: "api-key",
    name: "apiKey",
    type: "password",
    autocomplete: "current-password",
    required: true,
    "aria-describedby": "api-key-help",
  });
  const message = h("p", { id: "sign-in-message", class: "error", role: "alert" });
  const form = h(
    "form",
    { class: "card sign-in", "aria-labelledby": "sign-in-title" },
    h("h1", { id: "sign-in-title" }, "Sign in"),
    h("label", { for: "api-key" }, "API key"),
    input,
    h(
      "p",
      { id: "api-key-help", class: "help" },
      "Locally: the key `make run` prints (OMS_API_KEY). It is kept for this browser tab only.",
    ),
    message,
    h("button", { type: "submit", class: "primary" }, "Sign in"),
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    message.textContent = "";
    const key = input.value.trim();
    try {
      if (await checkKey(key)) {
        apiKey.set(key);
        onSignedIn();
      } else {
        message.textContent = "That API key was refused.";
        input.focus();
      }
    } catch (error) {
      message.textContent = `Could not reach the API: ${error.message}`;
    }
  });
  main.append(form);
  input.focus();
}
