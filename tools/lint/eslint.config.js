// ESLint flat config for the browser code in static/ (tools/lint/run; part of scripts/test).
// Recommended rules plus a few that catch real bugs, and a ban on HTML sinks: user text must
// go into the page as text nodes (core/dom.js h(), textContent), never parsed as HTML.
import js from "@eslint/js";
import globals from "globals";

// Browser globals that are easy to use by accident (a missing local `name`, `event`, `status`
// would silently read window.name …): referring to them needs `window.`.
const confusingGlobals = ["event", "name", "length", "status", "close", "open", "top", "parent", "self", "origin", "closed", "stop", "find", "print", "blur", "focus", "opener", "frames", "screen"];

const htmlSinks = ["innerHTML", "outerHTML", "insertAdjacentHTML"].map((property) => ({
  property,
  message: "Put text in as text nodes (h(), textContent), never as HTML.",
}));

export default [
  js.configs.recommended,
  {
    files: ["static/**/*.js"],
    languageOptions: {
      ecmaVersion: 2022,
      sourceType: "module",
      globals: { ...globals.browser },
    },
    linterOptions: { reportUnusedDisableDirectives: "error" },
    rules: {
      eqeqeq: ["error", "always", { null: "ignore" }], // `x == null`: null or undefined
      "no-implicit-globals": "error",
      "no-unused-vars": ["error", { args: "after-used", argsIgnorePattern: "^_", caughtErrors: "all", caughtErrorsIgnorePattern: "^_" }],
      "no-undef": "error",
      "no-restricted-globals": ["error", ...confusingGlobals],
      "no-restricted-properties": [
        "error",
        ...htmlSinks,
        { object: "document", property: "write", message: "No document.write: build nodes." },
        { object: "document", property: "writeln", message: "No document.writeln: build nodes." },
      ],
      "no-restricted-syntax": [
        "error",
        {
          selector: "CallExpression[callee.property.name='setAttribute'][arguments.0.value=/^on/i]",
          message: "No event-handler attributes: use addEventListener.",
        },
      ],
      "no-eval": "error",
      "no-implied-eval": "error",
      "no-new-func": "error",
      "no-self-compare": "error",
      "no-template-curly-in-string": "error",
      "no-unmodified-loop-condition": "error",
      "no-unreachable-loop": "error",
      "no-constructor-return": "error",
      "no-duplicate-imports": "error",
      "array-callback-return": "error",
    },
  },
  {
    // The website widget runs on other people's pages as a classic script: nothing it
    // declares may leak into their global scope.
    files: ["static/widget.js"],
    languageOptions: { sourceType: "script" },
  },
];
