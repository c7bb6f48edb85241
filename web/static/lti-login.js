/* lti-login.js: put the login secret into platform storage, then go to the platform's
 * authorization endpoint. If storage does not answer, go anyway: the cookie may work. */
(function () {
  'use strict';
  var el = document.getElementById('lti-login');
  if (!el) return;
  var go = function () { window.location.replace(el.dataset.authUrl); };
  var s = document.createElement('script');
  s.src = '/static/lti-storage.js';
  s.onload = function () {
    window.AttestLtiStorage.put(el.dataset.target, el.dataset.origin, el.dataset.key,
                                el.dataset.value).then(go, go);
  };
  s.onerror = go;
  document.head.appendChild(s);
})();
