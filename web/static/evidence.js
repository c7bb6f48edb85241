// evidence.js: upload photos, videos and files as evidence (GET /app/enrolments/{id}/evidence).
// Each file is sent on its own to POST /api/v1/evidence (multipart, learner_id before file,
// Authorization: Bearer + X-CSRF-Token) with XMLHttpRequest so its progress bar moves. A
// failed file stays in the list with the reason and a Retry button: nothing is lost. Files
// come from the camera input (phones), the file picker, or drag and drop (desktops).
const root = document.getElementById('uploader');

function setup(el) {
  const learner = el.dataset.learner;
  const token = el.dataset.token;
  const csrf = el.dataset.csrf;
  const max = Number(el.dataset.max) || 0;
  const maxWords = el.dataset.maxWords || '';
  const queue = document.getElementById('queue');
  const empty = document.getElementById('queue-empty');
  const status = document.getElementById('queue-status');
  const drop = document.getElementById('drop');
  const note = document.getElementById('upload-note');
  const list = document.getElementById('evidence-items');
  const listEmpty = document.getElementById('evidence-empty');
  let seq = 0;

  const say = (msg) => { status.textContent = msg; };

  function size(n) {
    if (n < 1024) return `${n} bytes`;
    if (n < 1024 * 1024) return `${Math.round(n / 1024)} KB`;
    return `${(n / 1024 / 1024).toFixed(1)} MB`;
  }

  function competencies() {
    return [...document.querySelectorAll('#attach input[name=competency_ids]:checked')].map((c) => c.value);
  }

  function errorText(xhr) {
    if (xhr.status === 0) return 'The connection failed. Check the network and retry.';
    let body = null;
    try { body = JSON.parse(xhr.responseText); } catch { body = null; }
    if (xhr.status === 413) return `The file is larger than the limit${maxWords ? ` of ${maxWords}` : ''}.`;
    if (xhr.status === 415) return body?.message ? `This kind of file is not accepted (${body.message}).` : 'This kind of file is not accepted.';
    if (xhr.status === 401) return 'Your session has expired. Launch Attest again from your course, then retry.';
    if (body?.message) return `Not uploaded: ${body.message}`;
    return `Not uploaded (error ${xhr.status}). Retry in a moment.`;
  }

  // A row of the evidence list for a stored record (textContent only: nothing is parsed as HTML).
  function listRow(rec) {
    const li = document.createElement('li');
    li.className = 'ev';
    li.id = `evidence-${rec.id}`;
    const url = `/api/v1/evidence/${rec.id}/download?s=${encodeURIComponent(token)}`;
    if (/^image\//.test(rec.media_type || '')) {
      const img = document.createElement('img');
      img.className = 'thumb';
      img.src = url;
      img.alt = `Photo ${rec.filename}`;
      li.append(img);
    }
    const body = document.createElement('div');
    body.className = 'ev-body';
    const what = document.createElement('p');
    what.className = 'ev-what';
    const a = document.createElement('a');
    a.href = url;
    a.download = '';
    a.textContent = rec.filename;
    const sz = document.createElement('span');
    sz.className = 'hint';
    sz.textContent = ` ${size(rec.size)}`;
    what.append(a, sz);
    body.append(what);
    if (rec.note) {
      const p = document.createElement('p');
      p.className = 'ev-note';
      p.textContent = rec.note;
      body.append(p);
    }
    const review = document.createElement('p');
    review.className = 'review';
    const badge = document.createElement('span');
    badge.className = 'badge pending';
    badge.textContent = 'Waiting for review';
    review.append(badge);
    body.append(review);
    li.append(body);
    return li;
  }

  function add(file) {
    const id = ++seq;
    const item = { file, comps: competencies(), note: note.value.trim(), tries: 0 };
    const li = document.createElement('li');
    li.className = 'up';
    li.dataset.state = 'waiting';
    const name = document.createElement('span');
    name.className = 'up-name';
    name.textContent = file.name || 'photo';
    const meta = document.createElement('span');
    meta.className = 'hint';
    meta.textContent = ` ${size(file.size)}`;
    const bar = document.createElement('progress');
    bar.max = 100;
    bar.value = 0;
    bar.id = `up-${id}-bar`;
    bar.setAttribute('aria-label', `Upload of ${file.name || 'photo'}`);
    const msg = document.createElement('span');
    msg.className = 'up-msg';
    msg.textContent = 'Waiting';
    const retry = document.createElement('button');
    retry.type = 'button';
    retry.className = 'retry';
    retry.textContent = 'Retry';
    retry.hidden = true;
    retry.setAttribute('aria-label', `Retry ${file.name || 'photo'}`);
    const remove = document.createElement('button');
    remove.type = 'button';
    remove.className = 'secondary remove';
    remove.textContent = 'Remove';
    remove.hidden = true;
    remove.setAttribute('aria-label', `Remove ${file.name || 'photo'} from the list`);
    const head = document.createElement('div');
    head.className = 'up-head';
    head.append(name, meta);
    const actions = document.createElement('div');
    actions.className = 'up-actions';
    actions.append(msg, retry, remove);
    li.append(head, bar, actions);
    queue.append(li);
    empty.hidden = true;

    function fail(text) {
      li.dataset.state = 'failed';
      msg.textContent = text;
      msg.classList.add('bad');
      retry.hidden = false;
      remove.hidden = false;
      say(`${file.name}: ${text}`);
    }

    function send() {
      item.tries++;
      li.dataset.state = 'sending';
      msg.classList.remove('bad');
      msg.textContent = 'Uploading…';
      retry.hidden = true;
      remove.hidden = true;
      bar.value = 0;
      if (max && file.size > max) { fail(`The file is larger than the limit${maxWords ? ` of ${maxWords}` : ''}.`); return; }
      const fd = new FormData();
      fd.append('learner_id', learner); // before the file: refused before a byte is stored
      if (item.comps.length) fd.append('competency_ids', item.comps.join(','));
      if (item.note) fd.append('note', item.note);
      fd.append('file', file, file.name || 'photo.jpg');
      const xhr = new XMLHttpRequest();
      xhr.open('POST', '/api/v1/evidence');
      xhr.setRequestHeader('Authorization', `Bearer ${token}`);
      xhr.setRequestHeader('X-CSRF-Token', csrf);
      xhr.setRequestHeader('Accept', 'application/json');
      xhr.upload.addEventListener('progress', (e) => {
        if (e.lengthComputable) {
          bar.value = Math.round((e.loaded / e.total) * 100);
          msg.textContent = `Uploading… ${bar.value} %`;
        }
      });
      xhr.addEventListener('load', () => {
        if (xhr.status === 201) {
          let rec = null;
          try { rec = JSON.parse(xhr.responseText); } catch { rec = null; }
          bar.value = 100;
          li.dataset.state = 'done';
          msg.textContent = 'Uploaded: waiting for review';
          say(`${file.name} uploaded.`);
          if (rec && list) {
            list.prepend(listRow(rec));
            if (listEmpty) listEmpty.hidden = true;
          }
          return;
        }
        fail(errorText(xhr));
      });
      xhr.addEventListener('error', () => fail(errorText({ status: 0 })));
      xhr.addEventListener('abort', () => fail('The upload was stopped. Retry to send it again.'));
      xhr.send(fd);
    }

    retry.addEventListener('click', () => { send(); bar.focus?.(); });
    remove.addEventListener('click', () => {
      li.remove();
      if (!queue.children.length) empty.hidden = false;
      note.focus();
    });
    send();
  }

  function addFiles(files) {
    for (const f of files) add(f);
  }

  for (const id of ['file-camera', 'file-pick']) {
    const input = document.getElementById(id);
    input?.addEventListener('change', () => {
      addFiles([...input.files]);
      input.value = '';
    });
  }

  drop.addEventListener('dragover', (e) => {
    e.preventDefault();
    drop.classList.add('over');
  });
  drop.addEventListener('dragleave', () => drop.classList.remove('over'));
  drop.addEventListener('drop', (e) => {
    e.preventDefault();
    drop.classList.remove('over');
    if (e.dataTransfer?.files?.length) addFiles([...e.dataTransfer.files]);
  });
}

if (root) setup(root);
