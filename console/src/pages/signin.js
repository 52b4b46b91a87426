import { apiKey, checkKey } from "../api.js";
import { startSignIn } from "../auth.js";
import { h } from "../dom.js";

// In the stack, staff sign in with their organization's account (the Cognito hosted UI) when
// config.json carries Cognito settings; the API key sign-in stays (locally the key `make run` prints).
// Whatever signs in is kept in sessionStorage only.
export function renderSignIn(main, onSignedIn, { cognito = null, message: notice = "" } = {}) {
  document.title = "Sign in - OMS console";
  if (cognito) main.append(cognitoCard(cognito, notice));
  const input = h("input", {
    id: "api-key",
    name: "apiKey",
    type: "password",
    autocomplete: "current-password",
    required: true,
    "aria-describedby": "api-key-help",
  });
  const message = h("p", { id: "sign-in-message", class: "error", role: "alert" }, cognito ? "" : notice);
  const form = h(
    "form",
    { class: "card sign-in", "aria-labelledby": "sign-in-title" },
    cognito ? h("h2", { id: "sign-in-title" }, "Or sign in with an API key") : h("h1", { id: "sign-in-title" }, "Sign in"),
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
  if (!cognito) input.focus();
}

function cognitoCard(cognito, notice) {
  const button = h("button", { type: "button", class: "primary", id: "cognito-sign-in" },
    "Sign in with your organization (Cognito)");
  const message = h("p", { id: "cognito-message", class: "error", role: "alert" }, notice);
  button.addEventListener("click", async () => {
    button.disabled = true;
    try {
      await startSignIn(cognito, location.pathname + location.search);
    } catch (error) {
      button.disabled = false;
      message.textContent = `Could not start the sign-in: ${error.message}`;
    }
  });
  const card = h(
    "section",
    { class: "card sign-in", "aria-labelledby": "cognito-title" },
    h("h1", { id: "cognito-title" }, "Sign in"),
    h("p", { class: "help" }, "Staff accounts are managed by your administrator; you will be asked for your "
      + "password and your authenticator code."),
    message,
    button,
  );
  setTimeout(() => button.focus());
  return card;
}
