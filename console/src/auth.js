// Staff sign-in through the stack's Cognito user pool: the hosted UI with the authorization code flow
// and PKCE (the app client has no secret), the code exchanged at the domain's /oauth2/token, the tokens
// kept in sessionStorage (gone when the tab closes), sign-out through the hosted UI's /logout.
// config.json's `signIn.cognito` says where: {domain, clientId, scopes, redirectUri, signedOutUri}.
// Locally there is no pool (cognito is null) and the API key signs in.

const TOKENS = "oms.cognito.tokens";
const PENDING = "oms.cognito.pending";
// Sign in again a little before the access token expires rather than have a request refused.
const EXPIRY_MARGIN_MS = 30 * 1000;

function base64url(bytes) {
  let text = "";
  for (const byte of new Uint8Array(bytes)) text += String.fromCharCode(byte);
  return btoa(text).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function randomString(size = 32) {
  return base64url(crypto.getRandomValues(new Uint8Array(size)));
}

export async function pkceChallenge(verifier) {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier));
  return base64url(digest);
}

export const tokens = {
  get() {
    const raw = sessionStorage.getItem(TOKENS);
    if (!raw) return null;
    try {
      const parsed = JSON.parse(raw);
      if (!parsed.accessToken || Date.now() > parsed.expiresAt - EXPIRY_MARGIN_MS) return null;
      return parsed;
    } catch {
      return null;
    }
  },
  set: (value) => sessionStorage.setItem(TOKENS, JSON.stringify(value)),
  clear: () => sessionStorage.removeItem(TOKENS),
};

/** The user name in an ID token's claims (shown in the header), or null. */
function usernameOf(idToken) {
  try {
    const payload = idToken.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
    const claims = JSON.parse(atob(payload + "=".repeat((4 - (payload.length % 4)) % 4)));
    return claims.email || claims["cognito:username"] || null;
  } catch {
    return null;
  }
}

/** To the hosted UI; it comes back to `redirectUri` with ?code= and our state. */
export async function startSignIn(cognito, returnTo = "/console/orders") {
  const verifier = randomString(48);
  const state = randomString(16);
  sessionStorage.setItem(PENDING, JSON.stringify({ verifier, state, returnTo }));
  const query = new URLSearchParams({
    response_type: "code",
    client_id: cognito.clientId,
    redirect_uri: cognito.redirectUri,
    scope: (cognito.scopes || ["openid"]).join(" "),
    state,
    code_challenge: await pkceChallenge(verifier),
    code_challenge_method: "S256",
  });
  location.assign(`${cognito.domain}/oauth2/authorize?${query}`);
}

/** The callback: the code (with our state) for tokens. Resolves to the path to go on to. */
export async function completeSignIn(cognito, query) {
  const pending = JSON.parse(sessionStorage.getItem(PENDING) || "null");
  sessionStorage.removeItem(PENDING);
  if (query.get("error")) throw new Error(query.get("error_description") || query.get("error"));
  const code = query.get("code");
  if (!pending || !code || query.get("state") !== pending.state) {
    throw new Error("the sign-in answer does not match a sign-in this tab started; sign in again");
  }
  const response = await fetch(`${cognito.domain}/oauth2/token`, {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({
      grant_type: "authorization_code",
      client_id: cognito.clientId,
      code,
      redirect_uri: cognito.redirectUri,
      code_verifier: pending.verifier,
    }),
  });
  const body = await response.json().catch(() => ({}));
  if (!response.ok || !body.access_token) {
    throw new Error(`the sign-in could not be completed (${body.error || response.status})`);
  }
  tokens.set({
    accessToken: body.access_token,
    idToken: body.id_token || null,
    username: usernameOf(body.id_token || ""),
    expiresAt: Date.now() + (Number(body.expires_in) || 3600) * 1000,
  });
  return pending.returnTo || "/console/orders";
}

/** Forget the tokens, then end the hosted UI's session too (it comes back to `signedOutUri`). */
export function signOutOfCognito(cognito) {
  const had = sessionStorage.getItem(TOKENS) !== null;
  tokens.clear();
  if (!cognito || !had) return false;
  const query = new URLSearchParams({ client_id: cognito.clientId, logout_uri: cognito.signedOutUri });
  location.assign(`${cognito.domain}/logout?${query}`);
  return true;
}
