// Relais campaign page: while a follow-up is being sent, poll its progress (JSON) every
// 3 seconds and update the counters, the bar and the failures, until nothing is left.
// Without this script the page refreshes itself (<noscript> meta refresh).
(() => {
  'use strict';
  const box = document.getElementById('campaign-progress');
  if (!box || !box.dataset.url || box.dataset.done) return;
  const failures = document.getElementById('campaign-failures');

  function show(p) {
    for (const k of ['recipients', 'queued', 'sent', 'failed', 'cancelled']) {
      const el = box.querySelector('[data-count="' + k + '"]');
      if (el && el.textContent !== String(p[k])) el.textContent = p[k];
    }
    const bar = box.querySelector('progress');
    if (bar) bar.value = p.percent;
    const status = document.getElementById('campaign-status');
    if (status && p.status_label) {
      status.textContent = p.status_label;
      status.className = 'badge c-' + p.status;
    }
    if (failures && p.failures && p.failures.length) {
      const body = failures.querySelector('tbody');
      body.textContent = '';
      for (const f of p.failures) {
        const tr = document.createElement('tr');
        const who = document.createElement('td');
        who.textContent = (f.to_name ? f.to_name + ' ' : '') + '<' + f.to_email + '>';
        const why = document.createElement('td');
        const code = document.createElement('code');
        code.textContent = f.error;
        why.appendChild(code);
        tr.append(who, why);
        body.appendChild(tr);
      }
      failures.hidden = false;
    }
    if (p.done) {
      const auto = document.getElementById('progress-auto');
      if (auto) auto.hidden = true;
    }
  }

  async function poll() {
    try {
      const r = await fetch(box.dataset.url, { headers: { Accept: 'application/json' }, credentials: 'same-origin' });
      if (r.ok) {
        const p = await r.json();
        show(p);
        if (p.done) return;
      }
    } catch (e) { /* offline for a moment: try again */ }
    setTimeout(poll, 3000);
  }
  setTimeout(poll, 3000);
})();
