// Relais door page: scan, admit, count, and keep admitting when the network drops.
// Plain script, no build step. The page hands over what it needs in data attributes
// (event, door, auth) and a JSON block of translated messages.
(() => {
  'use strict';
  const d = document, $ = id => d.getElementById(id), PFX = 'relais.door.';

  function store(ev, part, v) {
    const k = PFX + ev + '.' + part;
    try {
      if (v === undefined) return JSON.parse(localStorage.getItem(k) || 'null');
      if (v === null) localStorage.removeItem(k); else localStorage.setItem(k, JSON.stringify(v));
    } catch (e) { /* private mode or full: the page still works online */ }
    return null;
  }

  // wipe forgets an event (and any event opened with this door token): roster, counters,
  // and the door pages kept by the service worker. The scans not sent yet are kept (and
  // the token that finds them), never dropped: they are people let in, and the door page
  // of the event opened again on this device (a new link, a staff session) sends them.
  // It returns how many are left.
  async function wipe(ev, tok) {
    const evs = new Set(ev ? [String(ev)] : []);
    try {
      for (const k of Object.keys(localStorage)) {
        const m = k.match(/^relais\.door\.(\d+)\.meta$/);
        if (m && tok && (store(m[1], 'meta') || {}).token === tok) evs.add(m[1]);
      }
    } catch (e) { /* no storage */ }
    let left = 0;
    evs.forEach(e => {
      const n = (store(e, 'queue') || []).length;
      left += n;
      (n ? ['roster', 'stats'] : ['roster', 'queue', 'stats', 'meta']).forEach(p => store(e, p, null));
    });
    if (!window.caches) return left;
    for (const name of await caches.keys()) {
      if (name.indexOf('relais-door') !== 0) continue;
      const c = await caches.open(name);
      for (const r of await c.keys()) {
        const p = new URL(r.url).pathname;
        if ((tok && p === '/door/l/' + tok) || [...evs].some(e => p === '/door/events/' + e)) await c.delete(r);
      }
    }
    return left;
  }

  const gone = $('door-gone');
  if (gone) {
    const t = location.pathname.match(/^\/door\/l\/([^/]+)/), box = $('gone-pending');
    wipe(gone.dataset.event, t && t[1]).then(n => {
      if (!n || !box) return;
      const one = new Intl.PluralRules(d.documentElement.lang || 'fr').select(n) === 'one';
      box.textContent = (one ? box.dataset.txtOne : box.dataset.txtOther).replace('{n}', n);
      box.hidden = false;
    }).catch(() => {});
    return;
  }
  const root = $('door');
  if (!root) return;

  const { event: EV, auth: AUTH, token: TOKEN, csrf: CSRF, door: DOOR, tz: TZ } = root.dataset;
  const LANG = root.dataset.lang || 'fr', M = JSON.parse($('door-msgs').textContent);
  const scanIn = $('scan'), banner = $('banner'), undoBtn = $('undo'), net = $('net'), READY = $('b-title').textContent;
  let online = navigator.onLine !== false, syncing = false, ticks = 0, last = null, byCode = {}, byRef = {};
  // ended: why the server refused the door link ('revoked', 'expired', 'unknown'); the
  // page then sends nothing more, but for lateSync: one try to send the queue, which the
  // server takes from a link that expired recently (the scans made while it was valid).
  let ended = '', lateSync = false;
  let roster = store(EV, 'roster') || { since: '', items: {} }, queue = store(EV, 'queue') || [];
  const hex = n => Array.from(crypto.getRandomValues(new Uint8Array(n)), x => (x + 256).toString(16).slice(1)).join('');
  let dev = store('device', 'id');
  if (!dev) store('device', 'id', dev = hex(4));
  const DEVICE = DOOR.slice(0, 80) + ' #' + dev; // the server keeps 100 characters
  if (AUTH === 'link') store(EV, 'meta', { token: TOKEN });

  const fmt = (s, v) => s.replace(/\{(\w+)\}/g, (_, k) => (v[k] == null ? '' : v[k]));
  const fullName = r => [r.first_name, r.last_name].filter(Boolean).join(' ');
  const who = r => (r ? [fullName(r), r.outlet].filter(Boolean).join(' — ') : '');
  const normRef = s => String(s || '').toUpperCase().replace(/[^A-Z0-9]/g, '');
  function hhmm(iso) {
    if (!iso) return '';
    try { return new Intl.DateTimeFormat(LANG, { hour: '2-digit', minute: '2-digit', timeZone: TZ || undefined }).format(new Date(iso)); } catch (e) { return String(iso).slice(11, 16); }
  }

  // Network.
  // api calls the check-in API of the event. A failure to reach the server (or a proxy
  // saying it cannot) throws an error with .net set, and the page goes offline.
  async function api(method, path, body, timeout) {
    if (ended && !(lateSync && path === SYNC)) throw Object.assign(new Error(M.link_ended), { ended: true });
    const h = { Accept: 'application/json' };
    if (AUTH === 'link') h['X-Door-Token'] = TOKEN; else h['X-CSRF-Token'] = CSRF;
    if (body && !(body instanceof FormData)) { h['Content-Type'] = 'application/json'; body = JSON.stringify(body); }
    const ctl = new AbortController(), timer = setTimeout(() => ctl.abort(), timeout || 8000);
    let r;
    try {
      r = await fetch('/api/v1/events/' + EV + path, { method, headers: h, body: body || undefined, credentials: 'same-origin', cache: 'no-store', signal: ctl.signal });
    } catch (e) { r = null; } finally { clearTimeout(timer); }
    if (!r || (r.status >= 502 && r.status <= 504)) {
      setOnline(false);
      throw Object.assign(new Error('network'), { net: true });
    }
    setOnline(true);
    const j = await r.json().catch(() => null);
    if (r.status === 401 && AUTH === 'link') linkEnded(r.headers.get('X-Door-Link'), path);
    if (!r.ok) throw Object.assign(new Error((j && j.error && j.error.message) || r.statusText), { status: r.status, body: j });
    return j;
  }
  const quiet = p => p.catch(() => {});
  const SYNC = '/checkins/batch';

  // linkEnded stops using a door link that the server refused (revoked or expired). It
  // forgets the roster, as the organizer wants of a link withdrawn, but never the scans
  // not sent yet: an expired link may still send those it made while valid, and the page
  // says how many are left and what to do with them.
  function linkEnded(why, path) {
    if (path === SYNC) lateSync = false; // refused even so: revoked, or expired too long ago
    else if (!ended) lateSync = why === 'expired' && queue.length > 0;
    if (!ended) {
      ended = why || 'unknown';
      quiet(wipe(EV, TOKEN));
      roster = { since: '', items: {} };
      byCode = {};
      byRef = {};
      last = null;
      undoBtn.disabled = true;
    }
    renderNet();
    if (lateSync) sync();
  }

  function setOnline(v) {
    if (v === online) return;
    online = v;
    renderNet();
    if (v) { sync(); quiet(loadStats()); }
  }
  addEventListener('online', () => { online = true; renderNet(); sync(); quiet(loadRoster()); quiet(loadStats()); });
  addEventListener('offline', () => { online = false; renderNet(); });

  function renderNet(note) {
    net.classList.toggle('offline', !online);
    $('net-state').textContent = online ? net.dataset.txtUp : net.dataset.txtDown;
    const n = queue.length, one = new Intl.PluralRules(LANG).select(n) === 'one';
    $('pending').textContent = n ? fmt(one ? M.pending_one : M.pending_other, { n }) : note || '';
    const box = $('ended');
    if (ended && box) {
      box.textContent = n ? fmt(one ? M.ended_one : M.ended_other, { n }) : M.ended_none;
      box.hidden = false;
    }
  }

  // Result banner, sound, vibration.
  let bannerTimer, audio;
  function show(kind, title, detail, note) {
    banner.className = 'banner ' + kind;
    banner.dataset.seq = (+banner.dataset.seq || 0) + 1;
    void banner.offsetWidth; // restart the animation: two greens in a row look like two
    banner.classList.add('flash');
    $('b-title').textContent = title;
    $('b-detail').textContent = detail || '';
    $('b-note').textContent = note || '';
    if (kind !== 'info') feedback(kind);
    clearTimeout(bannerTimer);
    bannerTimer = setTimeout(() => {
      banner.className = 'banner idle';
      $('b-title').textContent = READY;
      $('b-detail').textContent = $('b-note').textContent = '';
    }, 10000);
  }
  function feedback(kind) {
    try {
      if (navigator.vibrate) navigator.vibrate(kind === 'ok' ? 120 : kind === 'warn' ? [90, 70, 90] : [300, 90, 300]);
      const AC = window.AudioContext || window.webkitAudioContext;
      if (!AC) return;
      audio = audio || new AC();
      const tones = kind === 'ok' ? [[880, 0, 0.12]] : kind === 'warn' ? [[660, 0, 0.1], [660, 0.17, 0.1]] : [[220, 0, 0.4]];
      for (const [hz, start, len] of tones) {
        const o = audio.createOscillator(), g = audio.createGain(), at = audio.currentTime + start;
        o.type = kind === 'bad' ? 'square' : 'sine';
        o.frequency.value = hz;
        g.gain.value = 0.2;
        o.connect(g);
        g.connect(audio.destination);
        o.start(at);
        o.stop(at + len);
      }
    } catch (e) { /* no sound: the banner says it all */ }
  }
  // The server names an admission by its device ("door #id"); people read the door.
  const doorOf = by => String(by || '').replace(/ #[0-9a-f]{8}$/, '');
  const already = (at, by) => fmt(by ? M.already : M.already_time, { time: hhmm(at), by: doorOf(by) });
  const showError = e => show('bad', M.error, e.message);

  // showResult shows the server's answer to a check-in and keeps the roster in step.
  function showResult(res) {
    const r = res.registration, at = res.checked_in_at || (r && r.checked_in_at);
    if (r) upsert(r, at, res.by);
    if (res.result === 'ok') {
      admitted(r);
      show('ok', M.ok, who(r));
    } else if (res.result === 'already_checked_in') {
      show('warn', already(at, res.by), who(r));
    } else {
      show('bad', M[res.result] || M.error, who(r));
    }
  }
  function admitted(r, nonce) {
    last = { id: r.id, nonce, name: fullName(r) };
    undoBtn.disabled = false;
    bump(1);
  }

  // Roster.
  function index(r) {
    if (r.code) byCode[r.code.toUpperCase()] = r;
    if (r.reference) byRef[normRef(r.reference)] = r;
  }
  function upsert(r, at, by) {
    const o = Object.assign(roster.items[r.id] || {}, r);
    if (at !== undefined) o.checked_in_at = at;
    if (by) o.checked_in_by = by;
    index(roster.items[r.id] = o);
  }
  const find = q => (q.registration_id ? roster.items[q.registration_id] : q.reference ? byRef[normRef(q.reference)] : byCode[String(q.code).toUpperCase()]);
  // Scans still queued are admissions the server does not know yet: a roster fresh from
  // the server must not undo them on this device.
  function reindex() {
    byCode = {};
    byRef = {};
    Object.values(roster.items).forEach(index);
    for (const q of queue) {
      const r = find(q);
      if (r && !r.checked_in_at) Object.assign(r, { checked_in_at: q.scanned_at, checked_in_by: DOOR });
    }
  }
  const saveRoster = () => ended || store(EV, 'roster', roster); // an ended link keeps no roster
  const saveQueue = () => { store(EV, 'queue', queue); renderNet(); };

  async function loadRoster() {
    if (!online) return;
    const since = roster.since;
    const res = await api('GET', '/roster' + (since ? '?since=' + encodeURIComponent(since) : ''), null, 30000);
    if (res.full || !since) roster.items = {};
    for (const r of res.registrations || []) roster.items[r.id] = r;
    roster.since = res.server_time || '';
    reindex();
    saveRoster();
  }

  async function loadStats() {
    const s = await api('GET', '/stats', null, 8000);
    store(EV, 'stats', s);
    renderStats(s);
  }
  // The last counters are kept, so that a page opened offline shows (and bumps) them.
  function renderStats(s) {
    $('c-admitted').textContent = s.admitted;
    $('c-expected').textContent = s.expected;
    $('c-capacity').textContent = s.capacity || '–';
    $('c-door').textContent = s.this_door;
    const doors = s.doors || [];
    $('c-doors').textContent = doors.length > 1 ? doors.map(x => x.name + ' : ' + x.admitted).join(' · ') : '';
  }
  // bump moves the counters at once; the next answer from the server corrects them.
  function bump(n) {
    for (const id of ['c-admitted', 'c-door']) {
      const v = parseInt($(id).textContent, 10);
      if (!isNaN(v)) $(id).textContent = Math.max(0, v + n);
    }
  }

  // Check in.
  function parse(raw) {
    const s = String(raw).trim(), ref = normRef(s);
    if (s.toUpperCase().indexOf('RLS1-') === 0) return { code: s.toUpperCase() };
    return /^[A-Z0-9]{6}$/.test(ref) ? { reference: ref } : { code: s };
  }
  async function checkin(q) {
    if (ended) return show('bad', M.link_ended, $('ended').textContent);
    Object.assign(q, { nonce: hex(16), device: DEVICE, scanned_at: new Date().toISOString() });
    if (!online) return admitLocally(q);
    try {
      showResult(await api('POST', '/checkins', q, 4000));
    } catch (e) {
      if (e.net) admitLocally(q); else showError(e);
    }
  }
  const scan = raw => String(raw).trim() && checkin(parse(raw));

  // admitLocally decides from the roster kept on the device and queues the admission.
  function admitLocally(q) {
    const r = find(q);
    if (!r) return show('bad', M.unknown_code, q.code || q.reference);
    if (r.status !== 'confirmed') return show('bad', M[r.status] || M.error, who(r));
    if (r.checked_in_at) return show('warn', already(r.checked_in_at, r.checked_in_by), who(r));
    Object.assign(r, { checked_in_at: q.scanned_at, checked_in_by: DOOR });
    const item = { nonce: q.nonce, device: q.device, scanned_at: q.scanned_at };
    if (r.code) item.code = r.code; else item.registration_id = r.id;
    queue.push(item);
    saveQueue();
    saveRoster();
    admitted(r, q.nonce);
    show('ok', M.ok, who(r), M.offline_saved);
  }

  // sync sends the queued scans; the server accepts them idempotently (by nonce), the
  // earliest scan wins, and a conflict is shown here too, as is an admission the server
  // refuses (the registration was cancelled or waitlisted meanwhile). Scans an expired
  // link made after its expiry (link_ended) stay in the queue.
  async function sync() {
    if (syncing || !queue.length || !online || (ended && !lateSync)) return;
    syncing = true;
    const batch = queue.slice(0, 200), sent = new Set(batch.map(x => x.nonce)), conflicts = [];
    let refused = false;
    try {
      const res = await api('POST', SYNC, { checkins: batch }, 20000);
      (res.results || []).forEach((r, i) => {
        if (r.result === 'link_ended') return sent.delete(batch[i].nonce);
        if (r.registration) upsert(r.registration, r.checked_in_at || r.registration.checked_in_at, r.by);
        if (!r.conflict) return;
        if (r.result === 'ok' || r.result === 'already_checked_in') return conflicts.push(fmt(M.conflict, { name: who(r.registration || roster.items[batch[i].registration_id]) }));
        refused = true;
        // An ended link's answers name nobody: the page's own roster may still.
        conflicts.unshift(fmt(M.refused, { name: who(r.registration || roster.items[batch[i].registration_id]) || batch[i].code || '', why: M[r.result] || r.result }));
      });
      const kept = batch.length - sent.size;
      queue = queue.filter(x => !sent.has(x.nonce));
      if (kept) {
        // The link has expired: what it scanned after stays here for a new link.
        lateSync = false;
        if (!ended) linkEnded('expired', SYNC);
      }
      saveQueue();
      saveRoster();
      renderNet(fmt(M.synced, { n: sent.size }));
      if (conflicts.length) show(refused ? 'bad' : 'warn', conflicts[0], conflicts.slice(1).join(' · '));
      if (!ended) quiet(loadStats());
    } catch (e) {
      if (!e.net) renderNet(M.error + ' : ' + e.message);
      return;
    } finally {
      syncing = false;
    }
    if (queue.length && (!ended || lateSync)) sync();
  }

  async function undo() {
    if (!last) return;
    const l = last, r = roster.items[l.id], i = queue.findIndex(x => x.nonce === l.nonce);
    if (i >= 0) {
      queue.splice(i, 1);
      saveQueue();
    } else {
      try {
        await api('DELETE', `/checkins/${l.id}?nonce=${hex(16)}&device=${encodeURIComponent(DEVICE)}`, null, 8000);
      } catch (e) {
        return e.net ? show('bad', M.undo_offline, l.name) : showError(e);
      }
    }
    if (r) { r.checked_in_at = null; r.checked_in_by = ''; saveRoster(); }
    last = null;
    undoBtn.disabled = true;
    bump(-1);
    show('info', M.undone, l.name);
    scanIn.focus();
  }

  // Camera, or a photo that the server decodes.
  const video = $('video');
  let stream = null, detector = null, seen = '', seenAt = 0;
  async function setupCamera() {
    let live = false;
    if (!/[?&]nocamera=1/.test(location.search) && 'BarcodeDetector' in window && navigator.mediaDevices) {
      live = await BarcodeDetector.getSupportedFormats().then(f => f.includes('qr_code'), () => false);
    }
    (live ? $('camera') : $('photo-btn')).hidden = false;
  }
  async function startCamera() {
    try {
      detector = detector || new BarcodeDetector({ formats: ['qr_code'] });
      stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: { ideal: 'environment' } }, audio: false });
      video.srcObject = stream;
      $('cam').hidden = false;
      $('camera').hidden = true;
      await video.play();
      detect();
    } catch (e) {
      stopCamera();
      show('bad', M.camera_error, e.message);
    }
  }
  async function detect() {
    if (!stream) return;
    try {
      const codes = await detector.detect(video), c = codes.length ? codes[0].rawValue : '', now = Date.now();
      // A ticket held before the lens is read many times a second: scan it once, and
      // again only after it has left the picture for a moment.
      if (c && (c !== seen || now - seenAt > 3000)) scan(c);
      if (c) { seen = c; seenAt = now; }
    } catch (e) { /* a frame that cannot be read */ }
    setTimeout(detect, 150);
  }
  function stopCamera() {
    if (stream) stream.getTracks().forEach(t => t.stop());
    stream = null;
    $('cam').hidden = true;
    $('camera').hidden = false;
    scanIn.focus();
  }
  // shrink keeps a phone photo small enough to upload fast on a weak network.
  async function shrink(f) {
    if (!window.createImageBitmap || f.size < 1500000) return f;
    try {
      const bmp = await createImageBitmap(f), k = Math.min(1, 1600 / Math.max(bmp.width, bmp.height)), c = d.createElement('canvas');
      c.width = Math.round(bmp.width * k);
      c.height = Math.round(bmp.height * k);
      c.getContext('2d').drawImage(bmp, 0, 0, c.width, c.height);
      return (await new Promise(res => c.toBlob(res, 'image/jpeg', 0.85))) || f;
    } catch (e) { return f; }
  }
  async function photo(e) {
    const f = e.target.files[0];
    e.target.value = '';
    if (!f) return;
    if (!online) return show('bad', M.photo_offline);
    show('info', M.reading);
    try {
      const fd = new FormData();
      fd.append('photo', await shrink(f), 'ticket.jpg');
      const r = await api('POST', '/decode', fd, 30000);
      if (r && r.code) await scan(r.code); else show('bad', M.no_qr);
    } catch (err) {
      if (err.net) show('bad', M.photo_offline);
      else if (err.status === 422 || err.status === 400) show('bad', M.no_qr);
      else showError(err);
    }
    scanIn.focus();
  }

  // Search: the roster on the device first, the server's answer when it comes.
  const qIn = $('q'), results = $('results'), folded = {};
  let searchTimer;
  // fold is the server's FoldText: no case, no accents, and the letters of Ewe and other
  // languages of the region that carry no accent to strip (ɛ, ɔ, ɖ…) read as plain ones.
  const FOLD = { 'æ': 'ae', 'œ': 'oe', 'ø': 'o', 'ß': 'ss', 'ɛ': 'e', 'ɔ': 'o', 'ɖ': 'd', 'ŋ': 'n', 'ʋ': 'v', 'ɣ': 'g', 'ƒ': 'f', 'ǝ': 'e', 'ə': 'e', '’': "'" };
  const fold = s => String(s || '').toLowerCase().normalize('NFD').replace(/[\u0300-\u036f]/g, '').replace(/[æœøßɛɔɖŋʋɣƒǝə’]/g, c => FOLD[c]);
  function localSearch(v) {
    const words = fold(v).split(/\s+/).filter(Boolean), ref = normRef(v), out = [];
    for (const [id, r] of Object.entries(roster.items)) {
      const hay = folded[id] || (folded[id] = fold([r.first_name, r.last_name, r.outlet, r.reference].join(' ')));
      if ((ref.length === 6 && normRef(r.reference) === ref) || words.every(w => hay.includes(w))) out.push(r);
      if (out.length >= 20) break;
    }
    return out;
  }
  function el(tag, text, parent) {
    const e = d.createElement(tag);
    e.textContent = text;
    if (parent) parent.appendChild(e);
    return e;
  }
  function renderResults(list, v) {
    results.textContent = '';
    if (v.length < 2) return;
    if (!list.length) el('li', M.no_results, results);
    for (const r of list) {
      const li = el('li', '', results), box = el('div', '', li);
      const st = r.checked_in_at ? fmt(M.admitted_at, { time: hhmm(r.checked_in_at) }) : M['st_' + r.status] || r.status;
      box.className = 'who';
      el('strong', fullName(r), box);
      el('small', [r.outlet, r.reference, st].filter(Boolean).join(' · '), box);
      if (r.status !== 'confirmed' || r.checked_in_at) continue;
      const b = el('button', M.admit, li);
      b.type = 'button';
      b.setAttribute('aria-label', M.admit + ' ' + fullName(r));
      b.addEventListener('click', () => {
        qIn.value = results.textContent = '';
        checkin({ registration_id: r.id });
        scanIn.focus();
      });
    }
  }
  function search() {
    const v = qIn.value.trim();
    clearTimeout(searchTimer);
    renderResults(v.length < 2 ? [] : localSearch(v), v);
    if (v.length < 2 || !online) return;
    searchTimer = setTimeout(() => quiet(api('GET', '/search?q=' + encodeURIComponent(v), null, 6000).then(res => {
      if (qIn.value.trim() !== v) return;
      const list = (res.results || []).map(r => (upsert(r), roster.items[r.id])), ids = new Set(list.map(r => r.id));
      renderResults(list.concat(localSearch(v).filter(r => !ids.has(r.id))), v);
    })), 250);
  }

  // Walk-ins. One nonce per person until the server answers: a retry after a timeout, or
  // a second tap, is the same walk-in again, not a second registration.
  // The nonce goes with what was typed: another person (or a corrected entry) is a new
  // walk-in, not the replay of the last one.
  let walkinNonce = '', walkinFor = '';
  async function walkin(e) {
    e.preventDefault();
    const f = e.target, send = f.querySelector('button[type="submit"]');
    if (send.disabled) return;
    const body = { device: DEVICE }, error = $('walkin-error');
    for (const input of f.querySelectorAll('input')) {
      body[input.name] = input.value.trim();
      input.removeAttribute('aria-invalid');
      $('w-e-' + input.name).textContent = '';
    }
    const typed = JSON.stringify(body);
    if (!walkinNonce || walkinFor !== typed) [walkinNonce, walkinFor] = [hex(16), typed];
    body.nonce = walkinNonce;
    error.textContent = '';
    if (!online) return (error.textContent = net.dataset.txtDown);
    send.disabled = true;
    try {
      const res = await api('POST', '/walkins', body, 10000);
      walkinNonce = '';
      f.reset();
      f.parentNode.open = false;
      showResult(res && res.result ? res : { result: 'ok', registration: (res && res.registration) || res });
      scanIn.focus();
    } catch (err) {
      if (!err.net) walkinNonce = ''; // answered: nothing was recorded
      const fields = (err.body && err.body.error && err.body.error.fields) || {};
      for (const k of Object.keys(fields)) {
        if (!$('w-' + k)) continue;
        $('w-e-' + k).textContent = fields[k];
        $('w-' + k).setAttribute('aria-invalid', 'true');
      }
      error.textContent = err.net ? net.dataset.txtDown : err.message;
    } finally {
      send.disabled = false;
    }
  }

  // Wiring.
  $('scan-form').addEventListener('submit', e => {
    e.preventDefault();
    const v = scanIn.value;
    scanIn.value = '';
    scanIn.focus(); // ready for the next scanner burst at once; the answer comes in the banner
    scan(v);
  });
  // A tap anywhere that is not a control gives the focus back to the scanner field.
  d.addEventListener('click', e => {
    if (!e.target.closest('input,button,a,label,summary,select,textarea,video,details')) scanIn.focus();
  });
  undoBtn.addEventListener('click', undo);
  $('camera').addEventListener('click', startCamera);
  $('cam-stop').addEventListener('click', stopCamera);
  $('photo').addEventListener('change', photo);
  if (qIn) qIn.addEventListener('input', search);
  if ($('walkin')) $('walkin').addEventListener('submit', walkin);

  // Every 10 s: the counters, every 20 s the roster's changes, and the queue. When a request
  // failed while the device says it is online, this is also the probe that finds the
  // server again (setOnline then sends the queue).
  async function tick() {
    ticks++;
    if (!online && !navigator.onLine) return;
    if (ended) return sync(); // only the late sync, if it is still to try
    await quiet(loadStats());
    if (ticks % 2 === 0) await quiet(loadRoster());
    sync();
  }
  setInterval(() => d.hidden || tick(), 10000);
  d.addEventListener('visibilitychange', () => d.hidden || tick());

  reindex();
  renderNet();
  if (store(EV, 'stats')) renderStats(store(EV, 'stats'));
  setupCamera();
  scanIn.focus();
  quiet(loadRoster().finally(sync));
  quiet(loadStats());

  if ('serviceWorker' in navigator) {
    quiet(navigator.serviceWorker.register('/door/sw.js', { scope: '/door/' }).then(() => navigator.serviceWorker.ready).then(reg => {
      // This first visit did not go through the worker: ask it to keep the page.
      if (!navigator.serviceWorker.controller && reg.active) reg.active.postMessage({ keep: location.href });
    }));
  }
})();
