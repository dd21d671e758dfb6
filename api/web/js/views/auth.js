// Sign in and register.

import { login, register } from "../api.js";
import { field, h, mount } from "../dom.js";
import { navigate } from "../router.js";
import { announce, busy } from "../status.js";

function input(name, type, autocomplete, extra = {}) {
  return h("input", { name, type, autocomplete, required: true, ...extra });
}

/** Sign-in page; `after()` says where to go once signed in (read then, not when the page was drawn). */
export function signInView(_params, outlet, { after = () => "/jobs", onSignedIn }) {
  const email = input("email", "email", "username");
  const password = input("password", "password", "current-password");
  const submit = h("button", { type: "submit", class: "primary" }, "Sign in");
  const form = h(
    "form",
    {
      class: "card narrow",
      "aria-labelledby": "signin-title",
      onsubmit: async (event) => {
        event.preventDefault();
        await busy(submit, async () => {
          await login(email.value.trim(), password.value);
          announce("Signed in");
          await onSignedIn();
          navigate(after());
        });
      },
    },
    h("h1", { id: "signin-title", tabindex: "-1" }, "Sign in"),
    field("Email", email),
    field("Password", password),
    h("div", { class: "actions" }, submit),
    h("p", {}, "No account yet? ", h("a", { href: "#/register" }, "Create one")),
  );
  mount(outlet, form);
}

export function registerView(_params, outlet, { onSignedIn }) {
  const name = h("input", { name: "display_name", type: "text", autocomplete: "name" });
  const email = input("email", "email", "username");
  const password = input("password", "password", "new-password", { minlength: 8 });
  const submit = h("button", { type: "submit", class: "primary" }, "Create account");
  const form = h(
    "form",
    {
      class: "card narrow",
      "aria-labelledby": "register-title",
      onsubmit: async (event) => {
        event.preventDefault();
        await busy(submit, async () => {
          await register(email.value.trim(), password.value, name.value.trim());
          // Registration creates the account and a personal workspace; sign straight in.
          await login(email.value.trim(), password.value);
          announce("Account created; signed in");
          await onSignedIn();
          navigate("/jobs");
        });
      },
    },
    h("h1", { id: "register-title", tabindex: "-1" }, "Create an account"),
    field("Name (optional)", name),
    field("Email", email),
    field("Password", password, "At least 8 characters."),
    h("div", { class: "actions" }, submit),
    h("p", {}, "Already have an account? ", h("a", { href: "#/login" }, "Sign in")),
  );
  mount(outlet, form);
}
