/* lti-launch.js: cookies were blocked; read the login secret from platform storage and
 * post the launch again with it. The server checks it against the state's hash. */
(function () {
  'use strict';
  var form = document.getElementById('lti-launch');
  if (!form) return;
  var fail = function () {
    document.getElementById('lti-launch-error').hidden = false;
  };
  var s = document.createElement('script');
  s.src = '/static/lti-storage.js';
  s.onload = function () {
    window.AttestLtiStorage.get(form.dataset.target, form.dataset.origin, form.dataset.key)
      .then(function (value) {
        if (!value) return fail();
        form.elements.state_secret.value = value;
        form.submit();
      }, fail);
  };
  s.onerror = fail;
  document.head.appendChild(s);
})();
