/* lti-storage.js: LTI Client Side postMessage platform storage (lti.put_data/get_data,
 * and the older org.imsglobal.lti.* subjects). Exposes window.AttestLtiStorage. */
(function () {
  'use strict';
  function frameFor(target) {
    if (target === '_parent') return window.parent;
    try {
      var f = window.parent.frames[target];
      if (f) return f;
    } catch (e) { /* fall through */ }
    return window.parent;
  }
  /* Send one request; resolve with the response data, reject on error or timeout. */
  function ask(target, origin, subject, body, timeoutMs) {
    return new Promise(function (resolve, reject) {
      var id = 'attest-' + Math.random().toString(36).slice(2) + Date.now().toString(36);
      var prefixes = ['lti.', 'org.imsglobal.lti.'];
      var finished = false;
      function onMessage(ev) {
        var d = ev.data;
        if (!d || typeof d !== 'object' || d.message_id !== id) return;
        if (origin !== '*' && ev.origin !== origin) return;
        if (d.subject !== 'lti.' + subject + '.response' &&
            d.subject !== 'org.imsglobal.lti.' + subject + '.response') return;
        finished = true;
        window.removeEventListener('message', onMessage);
        if (d.error) reject(new Error(d.error.code || 'error')); else resolve(d);
      }
      window.addEventListener('message', onMessage);
      /* The platform's storage frame may still be loading when this page starts: send
       * again every 400 ms (put and get are idempotent), alternating the current and the
       * older subject prefix, until an answer or the timeout. */
      var tries = 0;
      (function send() {
        if (finished) return;
        var p = prefixes[tries % prefixes.length];
        var msg = { subject: p + subject, message_id: id };
        for (var k in body) msg[k] = body[k];
        try { frameFor(target).postMessage(msg, origin); } catch (e) { /* try again */ }
        tries++;
        setTimeout(send, 400);
      })();
      setTimeout(function () {
        if (finished) return;
        finished = true;
        window.removeEventListener('message', onMessage);
        reject(new Error('timeout'));
      }, timeoutMs);
    });
  }
  window.AttestLtiStorage = {
    put: function (target, origin, key, value) {
      return ask(target, origin, 'put_data', { key: key, value: value }, 8000);
    },
    get: function (target, origin, key) {
      return ask(target, origin, 'get_data', { key: key }, 8000).then(function (d) {
        return d.value;
      });
    }
  };
})();
