/* lti-register.js: tell the platform that dynamic registration is finished. */
(function () {
  'use strict';
  var close = function () {
    (window.opener || window.parent).postMessage({ subject: 'org.imsglobal.lti.close' }, '*');
  };
  var b = document.getElementById('lti-close');
  if (b) b.addEventListener('click', close);
  close();
})();
