// GET /inspect/stately: relays this service's /inspect/ws stream to Stately's hosted inspector in
// the iframe (as @statelyai/inspect's own bridge does: buffer until it says it is connected).
// Only this page needs the internet, in the viewer's browser.
'use strict';

(() => {
  const $ = (id) => document.getElementById(id);
  const iframe = $('inspector');
  const params = new URLSearchParams(location.search);
  let token = params.get('token') || sessionStorage.getItem('flowbot-inspect-token') || '';
  if (params.has('token')) {
    params.delete('token');
    history.replaceState(null, '', location.pathname + (params.toString() ? `?${params}` : ''));
  }
  const buffered = [];
  let inspectorReady = false;
  let socket = null;

  window.addEventListener('message', (event) => {
    if (event.source !== iframe.contentWindow || !event.data || event.data.type !== '@statelyai.connected') return;
    inspectorReady = true;
    for (const frame of buffered.splice(0)) iframe.contentWindow.postMessage(frame, '*');
  });

  function relay(frame) {
    if (frame.type === '@flowbot.dropped') {
      $('status').textContent = `${frame.count} frame(s) dropped`;
      return;
    }
    if (inspectorReady) iframe.contentWindow.postMessage(frame, '*');
    else if (buffered.length < 5000) buffered.push(frame);
  }

  function connect() {
    sessionStorage.setItem('flowbot-inspect-token', token);
    if (socket) socket.close();
    const query = new URLSearchParams({ token });
    const conversation = $('filter-conversation').value.trim() || params.get('conversation') || '';
    if (conversation) query.set('conversation', conversation);
    for (const name of ['contact', 'flow']) if (params.get(name)) query.set(name, params.get(name));
    const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
    socket = new WebSocket(`${scheme}://${location.host}/inspect/ws?${query}`);
    socket.addEventListener('open', () => ($('status').textContent = 'relaying to stately.ai/inspect'));
    socket.addEventListener('close', () => ($('status').textContent = 'disconnected (token refused, or the service stopped)'));
    socket.addEventListener('message', (message) => {
      try {
        relay(JSON.parse(message.data));
      } catch {
        // not a frame
      }
    });
  }

  $('token-form').addEventListener('submit', (event) => {
    event.preventDefault();
    token = $('token').value.trim();
    connect();
  });
  $('token').value = token;
  if (token) connect();
})();
