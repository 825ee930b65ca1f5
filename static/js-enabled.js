// The NHS.UK page template's one inline script, moved here so the Content Security Policy
// needs no nonce and no 'unsafe-inline' (app/web.py). Loaded first thing in <body>, without
// defer, so the classes are set before anything is drawn.
document.body.className +=
  " js-enabled" + ("noModule" in HTMLScriptElement.prototype ? " nhsuk-frontend-supported" : "");
