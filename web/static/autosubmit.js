/* autosubmit.js: submit the form with id "autosubmit" (deep linking response). */
(function () {
  'use strict';
  var f = document.getElementById('autosubmit');
  if (f) f.submit();
})();
