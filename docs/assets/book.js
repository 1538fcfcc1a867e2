// rnnbook: small fixes to Material for MkDocs, run on every page.
//
// On a narrow screen a wide table scrolls sideways inside the wrapper Material puts
// around it; a keyboard user can only scroll it if the wrapper can take the focus
// (WCAG 2.1.1, axe-core's rule scrollable-region-focusable).
document$.subscribe(function () {
  document.querySelectorAll(".md-typeset__scrollwrap").forEach(function (wrapper) {
    wrapper.setAttribute("tabindex", "0");
  });
});
