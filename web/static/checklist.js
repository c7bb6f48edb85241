// checklist.js: the checklist page (web/templates/assess/checklist.html) on a phone in the
// field. Progressive enhancement: the page is a plain form that posts to the server; this
// module takes over when it runs.
//
//  - Every change is written at once to localStorage (key attest:obs:<id>, with the client
//    time of the change) and sent, debounced, as PUT /api/v1/observations/<id> (the whole
//    draft, Bearer token from data-s). A failed send (offline, server unreachable) keeps the
//    copy and retries when the `online` event fires, every 20 s while unsent, and on the next
//    load. On load the local copy wins when it holds changes the server has not
//    acknowledged (newest wins by the client timestamp of the last change); otherwise the
//    server's draft is the truth. Another tab of the same draft takes over a newer copy
//    through the `storage` event.
//  - The running score and the pass verdict follow core/observation.h's rule exactly
//    (integers, BigInt), with the timer since the observation started.
//  - "Review and submit" lists missing required items and empty required feedback; submit
//    sends the draft, then POST /submit with the draft's client key, so a resubmission after
//    a lost reply does not submit twice (409 answers are checked against the stored status).
//    A submit asked for while offline is kept and sent when the network returns.

const root = document.getElementById('obs');
const form = document.getElementById('cl-form');

if (root && form) {
  start();
}

function start() {
  const st = JSON.parse(root.dataset.obs);
  const token = root.dataset.s;
  const KEY = `attest:obs:${st.id}`;
  const ITEMS = st.items;
  const FIELDS = st.fields;
  const syncEl = document.getElementById('sync');
  const scoreEl = document.getElementById('score');
  const verdictEl = document.getElementById('verdict');
  const timerEl = document.getElementById('timer');
  const reviewEl = document.getElementById('review');
  const reviewBody = document.getElementById('review-body');
  const reviewErr = document.getElementById('review-error');
  const api = `/api/v1/observations/${st.id}`;

  // ---------------------------------------------------------------- storage
  let store = null;
  try {
    const probe = `${KEY}:probe`;
    window.localStorage.setItem(probe, '1');
    window.localStorage.removeItem(probe);
    store = window.localStorage;
  } catch {
    store = null; // a cross-site frame whose storage the browser blocks: memory only
  }
  let memory = null;
  const readLocal = () => {
    if (!store) return memory;
    try { return JSON.parse(store.getItem(KEY) || 'null'); } catch { return null; }
  };
  const writeLocal = (v) => {
    memory = v;
    if (!store) return;
    try { store.setItem(KEY, JSON.stringify(v)); } catch { /* full: the memory copy stays */ }
  };
  const dropLocal = () => {
    memory = null;
    if (store) try { store.removeItem(KEY); } catch { /* nothing to do */ }
  };

  // ---------------------------------------------------------------- form <-> draft
  const hstr = (v) => {
    const s = (v / 100).toFixed(2);
    return s.replace(/\.?0+$/, '');
  };
  const toHundredths = (s) => {
    if (!/^\d+(\.\d{1,2})?$/.test(s)) return undefined;
    return Math.round(Number(s) * 100);
  };
  const byName = (n) => form.elements.namedItem(n);

  function fromForm() {
    const answers = {};
    for (const it of ITEMS) {
      const t = byName(`t.${it.key}`);
      const a = { value: null, text: t ? t.value : '' };
      if (it.kind !== 'comment') {
        const el = byName(`v.${it.key}`);
        let raw = '';
        if (el instanceof RadioNodeList) raw = el.value;
        else if (el && el.type === 'radio') raw = el.checked ? el.value : '';
        else if (el) raw = el.value.trim();
        if (raw !== '') {
          const v = it.kind === 'points' ? toHundredths(raw) : Number.parseInt(raw, 10);
          a.value = Number.isInteger(v) ? v : null;
        }
      }
      answers[it.key] = a;
    }
    const feedback = {};
    for (const f of FIELDS) {
      const el = byName(`f.${f.key}`);
      feedback[f.key] = el ? el.value : '';
    }
    return { answers, feedback };
  }

  function toForm(d) {
    for (const it of ITEMS) {
      const a = d.answers[it.key] || { value: null, text: '' };
      const t = byName(`t.${it.key}`);
      if (t) {
        t.value = a.text || '';
        const det = t.closest('details');
        if (det && t.value) det.open = true;
      }
      if (it.kind === 'comment') continue;
      const el = byName(`v.${it.key}`);
      if (!el) continue;
      const want = a.value === null || a.value === undefined ? '' :
        it.kind === 'points' ? hstr(a.value) : String(a.value);
      const radios = el instanceof RadioNodeList ? [...el] : el.type === 'radio' ? [el] : null;
      if (radios) for (const r of radios) r.checked = r.value === want;
      else el.value = want;
    }
    for (const f of FIELDS) {
      const el = byName(`f.${f.key}`);
      if (el) el.value = d.feedback[f.key] || '';
    }
  }

  // ---------------------------------------------------------------- score (core/observation.h)
  function score(d) {
    const FRAC = 10000n;
    let num = 0n;
    let den = 0n;
    let critical = false;
    for (const it of ITEMS) {
      if (it.kind === 'comment') continue;
      const v = d.answers[it.key]?.value;
      if (v === null || v === undefined) {
        if (it.critical) critical = true;
        continue;
      }
      let n = 0n;
      let dd = 1n;
      let miss = false;
      if (it.kind === 'yesno') { n = BigInt(v); miss = v === 0; } else if (it.kind === 'points') {
        n = BigInt(v); dd = BigInt(it.max_points); miss = v === 0;
      } else if (it.scale_n > 0) {
        n = it.scale_n > 1 ? BigInt(v) : 1n;
        dd = it.scale_n > 1 ? BigInt(it.scale_n - 1) : 1n;
        miss = v < it.proficient_from;
      }
      if (it.critical && miss) critical = true;
      num += (BigInt(it.weight) * n * FRAC) / dd;
      den += BigInt(it.weight);
    }
    const s = den > 0n ? (BigInt(st.max_score) * num) / (den * FRAC) : 0n;
    return { score: Number(s), critical, passed: !st.self && !critical && Number(s) >= st.pass_mark };
  }

  function missing(d) {
    const out = [];
    ITEMS.forEach((it, i) => {
      if (!it.required) return;
      const a = d.answers[it.key];
      const ok = it.kind === 'comment' ? !!(a && a.text.trim()) : a && a.value !== null && a.value !== undefined;
      if (!ok) out.push({ id: `item-${it.key}`, label: `Item ${i + 1}: ${it.label}` });
    });
    for (const f of FIELDS) {
      if (f.required && !(d.feedback[f.key] || '').trim()) out.push({ id: `field-${f.key}`, label: `Feedback: ${f.label}` });
    }
    return out;
  }

  function showScore(d) {
    const s = score(d);
    if (scoreEl) scoreEl.textContent = hstr(s.score);
    if (!verdictEl) return;
    const open = missing(d).length;
    verdictEl.classList.remove('ok', 'fail');
    if (st.self) verdictEl.textContent = 'Self-evaluation: not graded';
    else if (s.critical && open === 0) { verdictEl.textContent = 'Critical item missed: not passed'; verdictEl.classList.add('fail'); } else if (open > 0) verdictEl.textContent = `${open} required still open`;
    else if (s.passed) { verdictEl.textContent = 'Passing'; verdictEl.classList.add('ok'); } else { verdictEl.textContent = 'Below the pass mark'; verdictEl.classList.add('fail'); }
  }

  // ---------------------------------------------------------------- status line
  function status(text, kind = '') {
    if (!syncEl) return;
    syncEl.textContent = text;
    syncEl.classList.remove('offline', 'error');
    if (kind) syncEl.classList.add(kind);
  }
  const OFFLINE = store ? 'Offline — saved on this device; it is sent when the network is back'
    : 'Offline — kept in this page only (this browser blocks storage here): keep it open';
  const clock = () => new Date().toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });

  // ---------------------------------------------------------------- the local copy
  let local = readLocal();
  const server = { answers: st.answers, feedback: st.feedback };
  if (local && local.t > (local.sent || 0)) {
    toForm(local); // unsent changes from an earlier visit: newest wins
  } else {
    local = { t: Date.now(), sent: Date.now(), ...server, submit: local?.submit || false };
    toForm(local);
    writeLocal(local);
  }
  const dirty = () => local.t > (local.sent || 0);

  // ---------------------------------------------------------------- sending
  let timer = null;
  let retry = null;
  let inflight = null;
  let again = false;

  // Items sent: those answered or commented now, and those that were (so that clearing one
  // reaches the server); untouched items are left out rather than stored as empty rows.
  const has = (a) => !!a && ((a.value !== null && a.value !== undefined) || !!a.text);
  const known = new Set(ITEMS.filter((it) => has(st.answers[it.key])).map((it) => it.key));
  function body(d) {
    const answers = [];
    for (const it of ITEMS) {
      const a = d.answers[it.key] || { value: null, text: '' };
      if (has(a)) known.add(it.key);
      if (!known.has(it.key)) continue;
      const x = { item: it.key, text: a.text || '' };
      if (it.kind !== 'comment') x.value = a.value === undefined ? null : a.value;
      answers.push(x);
    }
    return JSON.stringify({ answers, feedback: d.feedback });
  }

  async function call(method, url, payload) {
    return fetch(url, {
      method,
      headers: { authorization: `Bearer ${token}`, accept: 'application/json', 'content-type': 'application/json' },
      body: payload,
      cache: 'no-store',
      credentials: 'omit',
    });
  }

  function schedule(ms) {
    clearTimeout(timer);
    timer = setTimeout(() => { flush(); }, ms);
  }

  function scheduleRetry() {
    clearTimeout(retry);
    retry = setTimeout(() => { if (dirty() || local.submit) resume(); }, 20000);
  }

  /** Send the local copy if it has unsent changes. true when the server has it all. */
  async function flush() {
    if (inflight) { again = true; return inflight; }
    if (!dirty()) return true;
    if (!navigator.onLine) { status(OFFLINE, 'offline'); return false; }
    const stamp = local.t;
    status('Saving…');
    inflight = (async () => {
      try {
        const res = await call('PUT', api, body(local));
        if (res.ok) {
          local.sent = Math.max(local.sent || 0, stamp);
          writeLocal(local);
          clearFieldError();
          status(dirty() ? 'Saving…' : `All changes saved (${clock()})`);
          return !dirty();
        }
        const err = await res.json().catch(() => ({}));
        if (res.status === 409) { // submitted elsewhere: the server's version stands
          dropLocal();
          location.reload();
          return false;
        }
        if (res.status === 401) {
          status('Session expired — your answers are kept on this device; launch Attest again from the course to send them', 'error');
          return false;
        }
        if (res.status >= 400 && res.status < 500) {
          status(`Not saved: ${err.message || res.status}`, 'error');
          fieldError(err.field, err.message);
          return false;
        }
        status(OFFLINE, 'offline');
        scheduleRetry();
        return false;
      } catch {
        status(OFFLINE, 'offline');
        scheduleRetry();
        return false;
      }
    })();
    const ok = await inflight;
    inflight = null;
    if (again) { again = false; return flush(); }
    return ok;
  }

  function onChange() {
    const d = fromForm();
    local = { ...local, ...d, t: Math.max(Date.now(), (local.t || 0) + 1) };
    writeLocal(local);
    showScore(local);
    if (!navigator.onLine) status(OFFLINE, 'offline');
    else status(store ? 'Saved on this device' : 'Changed');
    schedule(800);
  }

  form.addEventListener('input', onChange);
  form.addEventListener('change', onChange);

  // ---------------------------------------------------------------- errors on fields
  let marked = null;
  function clearFieldError() {
    if (marked) { marked.classList.remove('bad'); marked = null; }
  }
  function fieldError(field, message) {
    clearFieldError();
    if (!field) return;
    const el = document.getElementById(`item-${field}`) || document.getElementById(`field-${field}`);
    if (el) { el.classList.add('bad'); marked = el; }
    if (reviewErr && message) reviewErr.textContent = message;
  }

  // ---------------------------------------------------------------- review and submit
  function review() {
    const list = missing(fromForm());
    reviewBody.replaceChildren();
    const p = document.createElement('p');
    if (list.length === 0) {
      p.textContent = st.self ? 'Every required item is answered.' : 'Every required item is answered and the required feedback is written.';
      reviewBody.append(p);
    } else {
      p.textContent = 'Missing before you can submit:';
      const ul = document.createElement('ul');
      ul.className = 'missing-list';
      for (const m of list) {
        const li = document.createElement('li');
        const a = document.createElement('a');
        a.href = `#${m.id}`;
        a.textContent = m.label;
        li.append(a);
        ul.append(li);
      }
      reviewBody.append(p, ul);
    }
    for (const el of form.querySelectorAll('.missing')) el.classList.remove('missing');
    for (const m of list) document.getElementById(m.id)?.classList.add('missing');
    reviewEl.hidden = false;
    const h = document.getElementById('review-h');
    h.scrollIntoView({ block: 'start' });
    h.focus({ preventScroll: true });
    return list;
  }

  async function submit() {
    if (review().length > 0) {
      reviewErr.textContent = 'Answer the missing items above, then submit again.';
      return;
    }
    reviewErr.textContent = '';
    local.submit = true;
    writeLocal(local);
    await resume();
  }

  let submitting = false;
  /** Send what is unsent, then the submit asked for (if any). */
  async function resume() {
    if (!(await flush())) return;
    if (!local.submit || submitting) return;
    if (!navigator.onLine) { status(OFFLINE, 'offline'); return; }
    submitting = true;
    status('Submitting…');
    try {
      const res = await call('POST', `${api}/submit`, JSON.stringify(st.client_key ? { client_key: st.client_key } : {}));
      let done = res.ok;
      let err = null;
      if (!res.ok) err = await res.json().catch(() => ({}));
      if (res.status === 409) { // a resubmission after a lost reply: is it submitted?
        const g = await call('GET', api);
        const o = g.ok ? await g.json() : null;
        done = !!o && o.status === 'submitted';
      }
      if (done) {
        dropLocal();
        status('Submitted');
        location.replace(`/app/observations/${st.id}?s=${encodeURIComponent(token)}`);
        return;
      }
      if (res.status >= 500) { status(OFFLINE, 'offline'); scheduleRetry(); return; }
      local.submit = false;
      writeLocal(local);
      reviewEl.hidden = false;
      reviewErr.textContent = `Not submitted: ${(err && err.message) || `error ${res.status}`}`;
      fieldError(err && err.field, null);
      status('Not submitted', 'error');
    } catch {
      status(`${OFFLINE} (the submit too)`, 'offline');
      scheduleRetry();
    } finally {
      submitting = false;
    }
  }

  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const act = e.submitter?.value || 'save';
    if (act === 'review') review();
    else if (act === 'submit') submit();
    else { onChange(); schedule(0); }
  });

  // ---------------------------------------------------------------- network, tabs, timer
  window.addEventListener('online', () => { status('Back online: sending…'); resume(); });
  window.addEventListener('offline', () => status(OFFLINE, 'offline'));
  window.addEventListener('storage', (e) => {
    if (e.key !== KEY || !e.newValue) return;
    let other;
    try { other = JSON.parse(e.newValue); } catch { return; }
    if (other && other.t > local.t) { local = other; toForm(local); showScore(local); }
  });
  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState === 'hidden' && dirty()) flush();
  });

  if (timerEl) {
    const t0 = Number(timerEl.dataset.start) * 1000;
    const tick = () => {
      const s = Math.max(0, Math.floor((Date.now() - t0) / 1000));
      const hh = Math.floor(s / 3600);
      const mm = String(Math.floor((s % 3600) / 60)).padStart(2, '0');
      const ss = String(s % 60).padStart(2, '0');
      timerEl.textContent = hh ? `${hh}:${mm}:${ss}` : `${mm}:${ss}`;
    };
    tick();
    setInterval(tick, 1000);
  }

  showScore(local);
  if (dirty() || local.submit) {
    status(navigator.onLine ? 'Unsent changes from before: sending…' : OFFLINE, navigator.onLine ? '' : 'offline');
    resume();
  } else {
    status(`All changes saved${store ? '' : ' (this browser does not let Attest keep a copy on this device)'}`);
  }
  root.dataset.ready = '1';
}
