// The reference service's page: plain JavaScript over the service's JSON
// API, WebAuthn through the browser's own JSON helpers
// (PublicKeyCredential.parseCreationOptionsFromJSON, toJSON()).
"use strict";

const $ = (id) => document.getElementById(id);
const page = { user: "", ticket: "", token: "" };

function say(message, ok) {
  const status = $("status");
  status.textContent = message;
  status.className = ok ? "ok" : "error";
}

async function call(method, path, body, bearer) {
  const headers = { "content-type": "application/json" };
  if (bearer) headers.authorization = "Bearer " + bearer;
  const response = await fetch(path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const answer = await response.json();
  if (answer.data && answer.data.access_token) page.token = answer.data.access_token;
  return answer;
}

const apiKey = () => $("api-key").value;

function session(fields) {
  return call("POST", "/authentication/v1/user/session", {
    user_id: page.user,
    api_key: apiKey(),
    source: "WEBAPI",
    password: "",
    ...fields,
  });
}

// Shows an answer; true when it succeeded.
function shown(answer) {
  say(answer.message || "No answer", answer.status === "success");
  return answer.status === "success";
}

// An answer on the way (the options of a ceremony): shown only if it
// failed, so that the status line holds the outcome of the whole step.
function passed(answer) {
  return answer.status === "success" || shown(answer);
}

async function loggedIn(answer) {
  if (!shown(answer)) return;
  $("second").classList.add("hidden");
  $("account").classList.remove("hidden");
  $("session").textContent =
    "Logged in as " + page.user + " (second factor: " + answer.data.second_factor + ")";
  await listPasskeys();
}

async function signUp() {
  shown(await call("POST", "/authentication/v1/user/signup", {
    user_id: $("su-user").value,
    password: $("su-password").value,
    mpin: $("su-mpin").value,
    phone: $("su-phone").value,
    api_key: apiKey(),
  }));
}

async function firstStep() {
  page.user = $("li-user").value;
  const answer = await session({
    login_type: "PASSWORD",
    password: $("li-password").value,
    second_auth_type: "REGISTER",
  });
  if (!shown(answer)) return;
  if (answer.data.access_token) return loggedIn(answer);
  page.ticket = answer.data.register_token;
  $("li-factors").textContent = answer.data.second_factors.join(", ");
  $("second").classList.remove("hidden");
}

function secondStep(type, value, extra) {
  return session({
    login_type: "TOKEN",
    password: page.ticket,
    second_auth_type: type,
    second_auth: value || "",
    ...extra,
  });
}

async function withTotp() {
  await loggedIn(await secondStep("TOTP", $("li-totp").value));
}

async function sendSms() {
  shown(await secondStep("OTP", ""));
}

async function withSms() {
  await loggedIn(await secondStep("OTP", $("li-sms").value));
}

// The browser's answer to request options, as JSON for the service.
async function assertion(options) {
  const publicKey = PublicKeyCredential.parseRequestOptionsFromJSON(options);
  const credential = await navigator.credentials.get({ publicKey });
  return credential.toJSON();
}

async function withPasskey() {
  const asked = await secondStep("WEBAUTHN", "");
  if (!passed(asked)) return;
  const answer = await assertion(asked.data.publicKey);
  await loggedIn(await secondStep("WEBAUTHN", "", { webauthn: answer }));
}

async function passkeySignIn() {
  const asked = await call("POST", "/authentication/v1/passkeys/sign-in/options", {
    api_key: apiKey(),
  });
  if (!passed(asked)) return;
  const answer = await assertion(asked.data.publicKey);
  page.user = "";
  const result = await session({ login_type: "FINGERPRINT", webauthn: answer });
  if (result.status === "success") page.user = result.data.user_id || $("li-user").value;
  await loggedIn(result);
}

async function enrolTotp() {
  const answer = await call("POST", "/authentication/v1/user/totp/enroll", {}, page.token);
  if (!shown(answer)) return;
  const uri = new URL(answer.data.otpauth_uri);
  $("totp-secret").textContent = uri.searchParams.get("secret");
  $("totp-qr").src = "data:image/svg+xml;base64," + btoa(answer.data.qr_svg);
  $("totp-enroll").classList.remove("hidden");
}

async function confirmTotp() {
  const answer = await call("POST", "/authentication/v1/user/totp/confirm", {
    code: $("totp-code").value,
  }, page.token);
  if (shown(answer)) $("totp-enroll").classList.add("hidden");
}

async function registerPasskey() {
  const asked = await call("POST", "/authentication/v1/user/passkeys/register/options", {}, page.token);
  if (!passed(asked)) return;
  const publicKey = PublicKeyCredential.parseCreationOptionsFromJSON(asked.data.publicKey);
  const credential = await navigator.credentials.create({ publicKey });
  const answer = await call("POST", "/authentication/v1/user/passkeys/register", {
    credential: credential.toJSON(),
    name: $("pk-name").value,
  }, page.token);
  if (shown(answer)) await listPasskeys();
}

async function listPasskeys() {
  const answer = await call("GET", "/authentication/v1/user/factors", undefined, page.token);
  const list = $("pk-list");
  list.replaceChildren();
  for (const passkey of (answer.data && answer.data.passkeys) || []) {
    const item = document.createElement("li");
    item.dataset.id = passkey.credential_id;
    const name = document.createElement("span");
    name.className = "name";
    name.textContent = passkey.name + (passkey.backed_up ? " (synced)" : "");
    const remove = document.createElement("button");
    remove.className = "remove";
    remove.textContent = "Remove";
    remove.addEventListener("click", () => run(() => removePasskey(passkey.credential_id)));
    item.append(name, " ", remove);
    list.append(item);
  }
}

async function removePasskey(id) {
  const answer = await call("POST", "/authentication/v1/user/factors/remove", {
    factor: "WEBAUTHN",
    credential_id: id,
  }, page.token);
  if (shown(answer)) await listPasskeys();
}

async function logOut() {
  shown(await call("DELETE", "/authentication/v1/user/session", undefined, page.token));
  page.token = "";
  $("account").classList.add("hidden");
}

// Every button's work, with a browser's refusal (no passkey chosen, a
// ceremony cancelled or not allowed) shown rather than lost.
async function run(work) {
  try {
    await work();
  } catch (e) {
    say("The browser refused: " + e.name + ": " + e.message, false);
  }
}

const buttons = {
  "su-go": signUp,
  "li-go": firstStep,
  "li-totp-go": withTotp,
  "li-sms-send": sendSms,
  "li-sms-go": withSms,
  "li-passkey-go": withPasskey,
  "pk-signin-go": passkeySignIn,
  "totp-enroll-go": enrolTotp,
  "totp-confirm-go": confirmTotp,
  "pk-register-go": registerPasskey,
  "logout-go": logOut,
};
for (const [id, work] of Object.entries(buttons)) {
  $(id).addEventListener("click", () => run(work));
}
