// Enhancements only: every page works without this script.
// - [data-copy=ID]: copies the value of the element with that id.
// - form[data-confirm]: asks before submitting a destructive action.
// - Page modules registered below run when their root element is present.
(function () {
  'use strict';
  document.addEventListener('click', function (event) {
    var button = event.target.closest && event.target.closest('[data-copy]');
    if (!button) return;
    var source = document.getElementById(button.getAttribute('data-copy'));
    if (!source) return;
    var text = 'value' in source ? source.value : source.textContent;
    var done = function () { button.textContent = 'Copied'; setTimeout(function () { button.textContent = 'Copy'; }, 2000); };
    if (navigator.clipboard && window.isSecureContext) navigator.clipboard.writeText(text).then(done, function () { source.select && source.select(); });
    else { source.select && source.select(); try { document.execCommand('copy'); done(); } catch (e) { /* selected for manual copy */ } }
  });
  document.addEventListener('submit', function (event) {
    var form = event.target;
    var question = form.getAttribute && form.getAttribute('data-confirm');
    if (question && !window.confirm(question)) event.preventDefault();
  });
  window.AuthGate = window.AuthGate || {};
})();
