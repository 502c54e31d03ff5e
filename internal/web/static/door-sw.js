// Relais door service worker: keeps the door page and its files, so that the page
// opens with no network. The API is never cached here: door.js keeps the roster and
// the queue of scans itself.
'use strict';
var CACHE = 'relais-door-v1';
var SHELL = ['/static/door.css', '/static/door.js', '/static/door-icon.svg', '/door/manifest.webmanifest'];

self.addEventListener('install', function (e) {
  e.waitUntil(caches.open(CACHE).then(function (c) { return c.addAll(SHELL); }).then(function () { return self.skipWaiting(); }));
});

self.addEventListener('activate', function (e) {
  e.waitUntil(caches.keys().then(function (keys) {
    return Promise.all(keys.filter(function (k) { return k.indexOf('relais-door') === 0 && k !== CACHE; })
      .map(function (k) { return caches.delete(k); }));
  }).then(function () { return self.clients.claim(); }));
});

// The page asks to keep itself after its first visit, which the worker did not see.
self.addEventListener('message', function (e) {
  var url = e.data && e.data.keep;
  if (!url || new URL(url).origin !== location.origin || new URL(url).pathname.indexOf('/door/') !== 0) return;
  e.waitUntil(fetch(url, { credentials: 'same-origin' }).then(function (r) {
    if (r.ok) return caches.open(CACHE).then(function (c) { return c.put(url, r); });
  }).catch(function () {}));
});

self.addEventListener('fetch', function (e) {
  var req = e.request;
  if (req.method !== 'GET') return;
  var url = new URL(req.url);
  if (url.origin !== location.origin || url.pathname.indexOf('/api/') === 0) return;
  if (req.mode === 'navigate' && url.pathname.indexOf('/door/') === 0) e.respondWith(page(req));
  else if (SHELL.indexOf(url.pathname) >= 0) e.respondWith(shell(req));
});

function wait(ms) { return new Promise(function (res) { setTimeout(res, ms); }); }

// page: the network first (a fresh CSRF token, a revoked link noticed), the kept copy when
// the network fails or hangs. A link that is gone (404, 410) is forgotten.
function page(req) {
  return caches.open(CACHE).then(function (c) {
    var kept = function () { return c.match(req, { ignoreSearch: true }); };
    var net = fetch(req).then(function (r) {
      if (r.ok) c.put(req, r.clone());
      else if (r.status === 404 || r.status === 410) c.delete(req, { ignoreSearch: true });
      return r;
    });
    var slow = wait(6000).then(function () { return kept().then(function (k) { return k || net; }); });
    return Promise.race([net, slow]).catch(function () {
      return kept().then(function (k) { return k || Response.error(); });
    });
  });
}

// shell: the kept copy at once, refreshed in the background for the next visit.
function shell(req) {
  return caches.open(CACHE).then(function (c) {
    return c.match(req, { ignoreSearch: true }).then(function (hit) {
      var net = fetch(req).then(function (r) { if (r.ok) c.put(req, r.clone()); return r; });
      if (hit) { net.catch(function () {}); return hit; }
      return net;
    });
  });
}
