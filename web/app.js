/* Stremora browser app: one classic script, no framework.
 *
 * Auth: the access token lives only in this closure (auth.token). The session itself is the
 * HttpOnly refresh cookie (cookie-only mode), renewed before the token expires and on a 401;
 * refreshes are serialized because refresh tokens rotate. localStorage holds preferences only
 * (the preferred playback quality).
 *
 * Routes use the History API; nginx answers index.html for every non-API path. The CSP in
 * force forbids inline script and style, so everything is built with DOM calls here.
 */
(function () {
  'use strict';

  var API = '/api/v1';
  var PAGE_SIZE = 24;
  var CHUNK_SIZE = 8 * 1024 * 1024;
  var PREF_QUALITY = 'stremora.quality';

  // ---------------------------------------------------------------------------------------
  // DOM helpers

  var uidCounter = 0;
  function uid(prefix) {
    uidCounter += 1;
    return (prefix || 'id') + '-' + uidCounter;
  }

  // h('tag', {attr: value, class: 'x', onclick: fn, dataset: {...}}, children...)
  function h(tag, props) {
    var el = document.createElement(tag);
    if (props) {
      Object.keys(props).forEach(function (key) {
        var v = props[key];
        if (v === null || v === undefined || v === false) return;
        if (key === 'class') el.className = v;
        else if (key === 'text') el.textContent = v;
        else if (key === 'dataset') Object.keys(v).forEach(function (k) { el.dataset[k] = v[k]; });
        else if (key.slice(0, 2) === 'on' && typeof v === 'function') el.addEventListener(key.slice(2), v);
        else if (key === 'value' && (tag === 'input' || tag === 'textarea' || tag === 'select')) el.value = v;
        else if (v === true) el.setAttribute(key, '');
        else el.setAttribute(key, String(v));
      });
    }
    for (var i = 2; i < arguments.length; i++) append(el, arguments[i]);
    return el;
  }

  function append(el, child) {
    if (child === null || child === undefined || child === false) return;
    if (Array.isArray(child)) { child.forEach(function (c) { append(el, c); }); return; }
    el.appendChild(typeof child === 'string' || typeof child === 'number'
      ? document.createTextNode(String(child)) : child);
  }

  function clear(el) {
    while (el.firstChild) el.removeChild(el.firstChild);
    return el;
  }

  function $(sel, root) { return (root || document).querySelector(sel); }

  function announce(msg) {
    var el = $('#announcer');
    el.textContent = '';
    window.setTimeout(function () { el.textContent = msg; }, 50);
  }

  // ---------------------------------------------------------------------------------------
  // Formatting

  function fmtBytes(n) {
    if (n === null || n === undefined) return '';
    if (n < 1000) return n + ' B';
    if (n < 1e6) return (n / 1e3).toFixed(1) + ' kB';
    if (n < 1e9) return (n / 1e6).toFixed(1) + ' MB';
    return (n / 1e9).toFixed(2) + ' GB';
  }

  function fmtDuration(sec) {
    if (sec === null || sec === undefined || !isFinite(sec)) return '';
    var s = Math.round(sec);
    var hh = Math.floor(s / 3600), mm = Math.floor((s % 3600) / 60), ss = s % 60;
    var two = function (x) { return (x < 10 ? '0' : '') + x; };
    return hh ? hh + ':' + two(mm) + ':' + two(ss) : mm + ':' + two(ss);
  }

  function fmtDate(iso) {
    var d = new Date(iso);
    if (isNaN(d.getTime())) return '';
    return d.toLocaleDateString(undefined, { year: 'numeric', month: 'short', day: 'numeric' });
  }

  function fmtDateTime(iso) {
    var d = new Date(iso);
    if (isNaN(d.getTime())) return '';
    return d.toLocaleString(undefined, {
      year: 'numeric', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', second: '2-digit'
    });
  }

  var STAGES = {
    queued: 'Waiting for a worker',
    probe: 'Reading the file',
    transcode: 'Making the quality versions',
    thumbnail: 'Making the thumbnail',
    publish: 'Publishing'
  };

  function processingText(v) {
    var p = v.processing;
    if (!p) return 'Processing';
    var stage = STAGES[p.stage] || 'Processing';
    return p.percent === null || p.percent === undefined ? stage : stage + ' · ' + p.percent + ' %';
  }

  // The owner's card when the API sends one (v.owner), else only the id.
  function ownerLabel(v) {
    if (auth.user && v.ownerId === auth.user.id) return 'you';
    if (v.owner) return v.owner.displayName || v.owner.username || 'Deleted user';
    return 'user ' + v.ownerId.slice(-6);
  }

  function parseTags(text) {
    var seen = {};
    return String(text || '').split(',').map(function (t) { return t.trim(); })
      .filter(function (t) {
        var k = t.toLowerCase();
        if (!t || seen[k]) return false;
        seen[k] = true;
        return true;
      });
  }

  function cpLength(s) { return Array.from(s).length; }

  function utf8Length(s) { return new TextEncoder().encode(String(s || '')).length; }

  // ---------------------------------------------------------------------------------------
  // API errors, in words

  function ApiError(status, problem, retryAfter) {
    problem = problem || {};
    this.name = 'ApiError';
    this.status = status;
    this.code = problem.code || (status ? 'http_' + status : 'network');
    this.detail = problem.detail || '';
    this.title = problem.title || '';
    this.errors = Array.isArray(problem.errors) ? problem.errors : [];
    this.retryAfter = retryAfter || null;
    this.message = humanMessage(this);
  }
  ApiError.prototype = Object.create(Error.prototype);
  ApiError.prototype.constructor = ApiError;

  function waitWords(seconds) {
    if (!seconds) return 'a little while';
    if (seconds < 90) return seconds + ' seconds';
    return Math.ceil(seconds / 60) + ' minutes';
  }

  function humanMessage(err) {
    switch (err.code) {
      case 'network': return 'Could not reach the server. Check your connection and try again.';
      case 'invalid_credentials': return 'That username or email and password don’t match an account.';
      case 'username_taken': return 'That username is already taken.';
      case 'email_taken': return 'Another account already uses that email.';
      case 'wrong_password': return 'Your current password is not right.';
      case 'current_password_required': return 'Enter your current password to change your email.';
      case 'password_too_common':
        return 'That password is too easy to guess' + (err.detail ? ' (' + err.detail.replace(/\.$/, '') + ')' : '') +
          '. Try a longer one with a mix of words, numbers and symbols.';
      case 'too_many_attempts': return 'Too many wrong passwords. Try again in ' + waitWords(err.retryAfter) + '.';
      case 'rate_limited': return 'Too many attempts. Wait ' + waitWords(err.retryAfter) + ' and try again.';
      case 'missing_token':
      case 'invalid_token':
      case 'token_expired':
      case 'signed_out': return 'Your session has ended. Please sign in again.';
      case 'user_not_found': return 'This account no longer exists.';
      case 'forbidden': return 'You are not allowed to change this.';
      case 'video_not_found': return 'This video does not exist, or it is not available to you.';
      case 'webhook_not_found': return 'This webhook no longer exists.';
      case 'too_many_webhooks': return 'You already have 20 webhooks. Delete one before adding another.';
      case 'upload_too_large': return 'The file is larger than this server accepts.';
      case 'unsupported_media_type': return 'This file is not a video format we accept (MP4, MOV, MKV, WebM, AVI, TS, FLV or Ogg).';
      case 'storage_full': return 'The server has no space left for uploads. Try again later.';
      case 'too_many_uploads': return 'The server is busy with other uploads. Try again in a moment.';
      case 'upload_expired': return 'This upload waited too long and expired. Please start it again.';
      case 'upload_not_found': return 'This upload no longer exists on the server. Please start it again.';
      case 'checksum_mismatch': return 'Part of the file was damaged on the way. Please try again.';
      case 'upload_locked':
      case 'offset_mismatch': return 'The upload was busy elsewhere. Resume to carry on.';
      case 'headers_too_large': return 'The title and tags are too long to send together. Shorten them and try again.';
      case 'unsupported_tus_version':
      case 'invalid_upload_header': return 'The server did not accept how this upload was sent. Reload the page and try again.';
      case 'invalid_query': return 'That search can’t be run. Check the search text and the tag (a tag has no commas).';
      case 'invalid_cursor': return 'That page link is no longer valid. Start again from the first page.';
      case 'validation_failed': return 'Please check the highlighted fields.';
      case 'db_unavailable':
      case 'unavailable':
      case 'storage_unavailable': return 'The server is busy right now. Try again in a moment.';
      case 'body_too_large': return 'That is more than the server accepts (an image can be up to 5 MB).';
      case 'channel_not_found': return 'This channel does not exist.';
      case 'comment_not_found': return 'This comment no longer exists.';
      case 'post_not_found': return 'This post no longer exists.';
      case 'playlist_not_found': return 'This playlist does not exist, or it is not available to you.';
      case 'cannot_subscribe_to_self': return 'You can’t subscribe to your own channel.';
      case 'comments_disabled': return 'Comments are turned off for this video.';
      case 'already_in_playlist': return 'This video is already in that playlist.';
      case 'playlist_full': return 'This playlist is full (5000 videos at most).';
      case 'invalid_image': return 'This file is not an image we can use. Choose a JPEG, PNG or WebP picture.';
      case 'internal': return 'Something went wrong on our side. Please try again.';
      default:
        if (err.status >= 500) return 'Something went wrong on the server (' + err.status + '). Please try again.';
        return err.title || err.detail || 'The request failed (' + err.status + ').';
    }
  }

  var FIELD_HINTS = {
    username: 'Use 3 to 30 lowercase letters, digits, dots, dashes or underscores.',
    email: 'Enter an email address like name@example.com.',
    url: 'Enter a full http:// or https:// address, without a user name or password.',
    displayName: 'Use 1 to 64 characters, without control characters.',
    title: 'Use one line of 1 to 200 characters.',
    tags: 'Separate tags with commas; each is at most 40 characters.',
    events: 'Choose at least one event.',
    bio: 'Use at most 1000 characters.',
    body: 'Write something first (at most 10000 characters).'
  };

  function fieldMessage(field, code) {
    switch (code) {
      case 'required': return field === 'events' ? 'Choose at least one event.' : 'This is required.';
      case 'too_short':
        if (field === 'password' || field === 'newPassword') return 'Use at least 8 characters.';
        if (field === 'username') return 'Use at least 3 characters.';
        if (field === 'events') return 'Choose at least one event.';
        if (field === 'title' || field === 'displayName') return 'This can’t be empty or only spaces.';
        return 'This is too short.';
      case 'too_long':
        if (field === 'tags') return 'A tag is too long (40 characters at most), or there is too much tag text.';
        return 'This is too long.';
      case 'invalid_format': return FIELD_HINTS[field] || 'This is not in a form we accept.';
      case 'reserved': return 'This username is reserved. Please choose another.';
      case 'too_many': return field === 'tags' ? 'Use at most 20 tags.' : 'Too many items.';
      case 'duplicate': return field === 'events' ? 'Each event can be chosen once.' : 'This was given twice.';
      case 'wrong_type':
      case 'null_not_allowed': return 'This value is not accepted.';
      case 'out_of_range': return 'This value is out of range.';
      case 'unknown_field': return 'This can’t be changed here.';
      default: return 'This value is not accepted.';
    }
  }

  // Codes that belong to one field of a form.
  var CODE_FIELDS = {
    username_taken: ['username'],
    email_taken: ['email'],
    wrong_password: ['currentPassword'],
    current_password_required: ['currentPassword'],
    password_too_common: ['password', 'newPassword']
  };

  // ---------------------------------------------------------------------------------------
  // Session

  var auth = { token: null, exp: 0, user: null, refreshing: null, timer: 0 };
  var authChannel = null;
  try { authChannel = new BroadcastChannel('stremora-auth'); } catch (e) { authChannel = null; }

  function setSession(pair) {
    var wasIn = !!auth.user;
    auth.token = pair.accessToken;
    auth.exp = Date.now() + (pair.expiresIn || 900) * 1000;
    auth.user = pair.user;
    scheduleRenewal((pair.expiresIn || 900) * 1000 - 60000);
    updateHeader();
    if (!wasIn && authChannel) authChannel.postMessage('signin');
  }

  function clearSession(reason) {
    var wasIn = !!auth.user;
    auth.token = null;
    auth.exp = 0;
    auth.user = null;
    window.clearTimeout(auth.timer);
    updateHeader();
    if (wasIn && reason === 'expired') {
      announce('Your session has ended. Please sign in again.');
      if (currentRoute && currentRoute.needsAuth) render();
    }
  }

  function scheduleRenewal(ms) {
    window.clearTimeout(auth.timer);
    auth.timer = window.setTimeout(function () {
      refreshSession().then(function (ok) {
        // A failure other than a dead session (server busy, offline): try again soon.
        if (!ok && auth.user) scheduleRenewal(15000);
      });
    }, Math.max(5000, ms));
  }

  // One refresh at a time: refresh tokens rotate, so two at once would spend the same one.
  function refreshSession() {
    if (auth.refreshing) return auth.refreshing;
    auth.refreshing = fetch(API + '/auth/refresh', {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'X-Stremora-Session': 'cookie', 'Content-Type': 'application/json', Accept: 'application/json' },
      body: '{"session":"cookie"}'
    }).then(function (res) {
      if (res.ok) return res.json().then(function (pair) { setSession(pair); return true; });
      if (res.status === 401 || res.status === 422) { clearSession('expired'); return false; }
      return false;
    }, function () { return false; }).then(function (ok) {
      auth.refreshing = null;
      return ok;
    });
    return auth.refreshing;
  }

  function ensureFreshToken() {
    if (auth.refreshing) return auth.refreshing;
    if (auth.token && Date.now() > auth.exp - 60000) return refreshSession();
    return Promise.resolve(!!auth.token);
  }

  if (authChannel) {
    authChannel.onmessage = function (e) {
      if (e.data === 'signout' && auth.user) {
        clearSession();
        announce('You signed out in another tab.');
        render();
      } else if (e.data === 'signin' && !auth.user) {
        refreshSession().then(function (ok) { if (ok) render(); });
      }
    };
  }

  // Timers are slowed in hidden tabs: check the token when the tab comes back.
  document.addEventListener('visibilitychange', function () {
    if (document.visibilityState === 'visible' && auth.user) ensureFreshToken();
  });

  // api(path, {method, body, raw, contentType, auth: true|false}) -> parsed JSON (or null for
  // 204); `raw` (a Blob) is sent as it is with `contentType`, `body` as JSON.
  // A 401 for an expired or refused token refreshes the session once and retries.
  function api(path, opts) {
    opts = opts || {};
    var method = opts.method || 'GET';
    var useAuth = opts.auth !== false;
    var pre = useAuth && auth.user ? ensureFreshToken() : Promise.resolve();
    return pre.then(function () {
      var headers = { Accept: 'application/json' };
      var sentToken = useAuth && auth.token ? auth.token : null;
      if (sentToken) headers.Authorization = 'Bearer ' + sentToken;
      var init = { method: method, headers: headers, credentials: 'same-origin' };
      if (opts.raw !== undefined) {
        // A file as the whole body (avatar, banner): its own type, no JSON.
        headers['Content-Type'] = opts.contentType || 'application/octet-stream';
        init.body = opts.raw;
      } else if (opts.body !== undefined) {
        headers['Content-Type'] = 'application/json';
        init.body = JSON.stringify(opts.body);
      }
      return fetch(path, init).then(function (res) {
        if (res.status === 401 && sentToken && !opts.retried) {
          return readProblem(res).then(function (p) {
            if (p.code !== 'token_expired' && p.code !== 'invalid_token') throw new ApiError(401, p);
            return refreshSession().then(function (ok) {
              if (ok) return api(path, Object.assign({}, opts, { retried: true }));
              if (method === 'GET') return api(path, Object.assign({}, opts, { retried: true, auth: false }));
              throw new ApiError(401, { code: 'signed_out' });
            });
          });
        }
        if (res.status === 204 || res.status === 304) return null;
        if (!res.ok) {
          return readProblem(res).then(function (p) {
            throw new ApiError(res.status, p, parseInt(res.headers.get('Retry-After') || '', 10) || null);
          });
        }
        return res.json();
      }, function () {
        throw new ApiError(0, { code: 'network' });
      });
    });
  }

  function readProblem(res) {
    return res.text().then(function (t) {
      try { var p = JSON.parse(t); return p && typeof p === 'object' ? p : {}; } catch (e) { return {}; }
    }, function () { return {}; });
  }

  function qs(params) {
    var parts = [];
    Object.keys(params).forEach(function (k) {
      var v = params[k];
      if (v === null || v === undefined || v === '') return;
      parts.push(encodeURIComponent(k) + '=' + encodeURIComponent(v));
    });
    return parts.length ? '?' + parts.join('&') : '';
  }

  function signOut() {
    var p = fetch(API + '/auth/logout', {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'X-Stremora-Session': 'cookie' }
    }).catch(function () { return null; });
    return p.then(function () {
      if (upl && (upl.phase === 'uploading' || upl.phase === 'paused')) upl.upload.abort();
      upl = null;
      clearSession();
      if (authChannel) authChannel.postMessage('signout');
      announce('You are signed out.');
      navigate('/signin');
    });
  }

  // ---------------------------------------------------------------------------------------
  // Forms

  // field({label, name, type, hint, ...attrs}) -> {el, input}. The API member name is the
  // field's `name`, so the API's `errors[].field` finds its place.
  function field(opts) {
    var id = uid('f-' + opts.name);
    var hintId = opts.hint ? id + '-hint' : null;
    var errId = id + '-error';
    var attrs = Object.assign({}, opts.attrs || {});
    attrs.id = id;
    attrs.name = opts.name;
    attrs['aria-describedby'] = (hintId ? hintId + ' ' : '') + errId;
    var control;
    if (opts.type === 'textarea') {
      control = h('textarea', attrs);
      if (opts.value) control.value = opts.value;
    } else if (opts.type === 'select') {
      control = h('select', attrs, (opts.options || []).map(function (o) {
        return h('option', { value: o[0], selected: o[0] === opts.value }, o[1]);
      }));
    } else {
      attrs.type = opts.type || 'text';
      control = h('input', attrs);
      if (opts.value !== undefined && opts.value !== null) control.value = opts.value;
    }
    var label = h('label', { for: id }, opts.label, opts.optional ? h('span', { class: 'optional' }, ' (optional)') : null);
    var el = h('div', { class: 'field', dataset: { field: opts.name } },
      label,
      control,
      hintId ? h('p', { class: 'hint', id: hintId }, opts.hint) : null,
      h('p', { class: 'field-error', id: errId, hidden: true }));
    return { el: el, input: control };
  }

  function formMessage() {
    return h('div', { class: 'form-message', role: 'alert', 'aria-live': 'assertive', hidden: true });
  }

  function clearErrors(form) {
    Array.prototype.forEach.call(form.querySelectorAll('.field-error'), function (p) {
      p.textContent = '';
      p.hidden = true;
    });
    Array.prototype.forEach.call(form.querySelectorAll('[aria-invalid]'), function (c) {
      c.removeAttribute('aria-invalid');
    });
    var m = form.querySelector('.form-message');
    if (m) { m.textContent = ''; m.hidden = true; m.classList.remove('ok'); }
  }

  function setFieldError(form, name, msg) {
    var f = form.querySelector('[data-field="' + name + '"]');
    if (!f) return false;
    var p = f.querySelector('.field-error');
    p.textContent = msg;
    p.hidden = false;
    var c = f.querySelector('input, textarea, select');
    if (c) c.setAttribute('aria-invalid', 'true');
    return true;
  }

  function setFormMessage(form, msg, ok) {
    var m = form.querySelector('.form-message');
    if (!m) { announce(msg); return; }
    m.textContent = msg;
    m.hidden = false;
    m.classList.toggle('ok', !!ok);
  }

  function focusFirstInvalid(form) {
    var c = form.querySelector('[aria-invalid="true"]');
    if (c) c.focus();
  }

  // Puts an ApiError in place: field errors beside their fields, the rest in the message area.
  function showApiError(form, err) {
    clearErrors(form);
    var general = [];
    if (err.errors && err.errors.length) {
      err.errors.forEach(function (fe) {
        var name = String(fe.field || '').split(/[.\[\/]/)[0];
        if (!setFieldError(form, name, fieldMessage(name, fe.code))) general.push(fieldMessage(name, fe.code));
      });
      if (general.length) setFormMessage(form, general.join(' '));
      else setFormMessage(form, 'Please check the highlighted fields.');
    } else {
      var placed = false;
      (CODE_FIELDS[err.code] || []).forEach(function (name) {
        if (!placed && setFieldError(form, name, err.message)) placed = true;
      });
      setFormMessage(form, placed ? 'Please check the highlighted fields.' : err.message);
    }
    focusFirstInvalid(form);
  }

  // Checks the form's constraints (required, lengths, types, patterns) in our own words.
  function validateForm(form, extra) {
    clearErrors(form);
    var ok = true;
    Array.prototype.forEach.call(form.elements, function (c) {
      if (!c.name || !c.willValidate || c.validity.valid) return;
      var v = c.validity, msg;
      if (v.valueMissing) msg = c.type === 'file' ? 'Choose a file.' : 'This is required.';
      else if (v.tooShort) msg = 'Use at least ' + c.minLength + ' characters.';
      else if (v.tooLong) msg = 'Use at most ' + c.maxLength + ' characters.';
      else if (v.typeMismatch || v.patternMismatch) msg = FIELD_HINTS[c.name] || 'This is not in a form we accept.';
      else msg = 'This value is not accepted.';
      if (setFieldError(form, c.name, msg)) ok = false;
    });
    if (extra) {
      var more = extra() || [];
      more.forEach(function (pair) { setFieldError(form, pair[0], pair[1]); ok = false; });
    }
    if (!ok) {
      setFormMessage(form, 'Please check the highlighted fields.');
      focusFirstInvalid(form);
    }
    return ok;
  }

  function setBusy(form, busy, label) {
    var btn = form.querySelector('button[type="submit"]');
    form.setAttribute('aria-busy', busy ? 'true' : 'false');
    if (btn) {
      if (!btn.dataset.label) btn.dataset.label = btn.textContent;
      btn.disabled = busy;
      btn.textContent = busy ? (label || 'Working…') : btn.dataset.label;
    }
  }

  // A real <dialog> asking to confirm; resolves true when confirmed.
  function confirmDialog(opts) {
    return new Promise(function (resolve) {
      var opener = document.activeElement;
      var titleId = uid('dlg-title'), bodyId = uid('dlg-body');
      var cancel = h('button', { type: 'button', class: 'button secondary' }, opts.cancel || 'Cancel');
      var ok = h('button', { type: 'button', class: 'button' + (opts.danger ? ' danger' : '') }, opts.confirm || 'OK');
      var d = h('dialog', { class: 'dialog', 'aria-labelledby': titleId, 'aria-describedby': bodyId },
        h('h2', { id: titleId }, opts.title),
        h('p', { id: bodyId }, opts.body),
        h('div', { class: 'dialog-actions' }, cancel, ok));
      cancel.addEventListener('click', function () { d.close('cancel'); });
      ok.addEventListener('click', function () { d.close('ok'); });
      d.addEventListener('close', function () {
        var yes = d.returnValue === 'ok';
        d.remove();
        if (opener && opener.isConnected && typeof opener.focus === 'function') opener.focus();
        resolve(yes);
      });
      document.body.appendChild(d);
      d.showModal();
      cancel.focus();
    });
  }

  // ---------------------------------------------------------------------------------------
  // Router

  var routes = [
    { re: /^\/$/, page: pageHome, nav: 'home', title: 'Home' },
    { re: /^\/signin$/, page: pageSignIn, nav: 'signin', title: 'Sign in' },
    { re: /^\/signup$/, page: pageSignUp, nav: 'signup', title: 'Sign up' },
    { re: /^\/upload$/, page: pageUpload, nav: 'upload', title: 'Upload' },
    { re: /^\/watch\/([^/]+)$/, page: pageWatch, nav: null, title: 'Watch' },
    { re: /^\/c\/([^/]+)$/, page: pageChannel, nav: 'channel', title: 'Channel' },
    { re: /^\/p\/([^/]+)$/, page: pagePlaylist, nav: null, title: 'Playlist' },
    { re: /^\/feed$/, page: pageFeed, nav: 'feed', title: 'Subscriptions', needsAuth: true },
    { re: /^\/me\/playlists$/, page: pageMyPlaylists, nav: 'playlists', title: 'Playlists', needsAuth: true },
    { re: /^\/me\/videos$/, page: pageMyVideos, nav: 'myvideos', title: 'My videos', needsAuth: true },
    { re: /^\/account$/, page: pageAccount, nav: 'account', title: 'Account', needsAuth: true },
    { re: /^\/webhooks$/, page: pageWebhooks, nav: 'webhooks', title: 'Webhooks', needsAuth: true }
  ];

  var currentRoute = null;
  var ctx = null;
  var firstRender = true;

  function navigate(url, opts) {
    opts = opts || {};
    if (opts.replace) history.replaceState(opts.state || null, '', url);
    else history.pushState(opts.state || null, '', url);
    render();
  }

  function render() {
    if (ctx) ctx.close();
    var path = location.pathname.replace(/\/+$/, '') || '/';
    var query = new URLSearchParams(location.search);
    var route = null, match = null;
    for (var i = 0; i < routes.length; i++) {
      match = routes[i].re.exec(path);
      if (match) { route = routes[i]; break; }
    }
    currentRoute = route;
    closeMenu();
    var main = $('#main');
    clear(main);
    ctx = makeCtx(main);
    updateHeader();
    updateUploadBanner();
    if (!route) {
      setTitle('Not found');
      main.appendChild(h('section', { class: 'page' },
        h('h1', { tabindex: '-1' }, 'Page not found'),
        h('p', {}, 'There is nothing at this address. ', h('a', { href: '/' }, 'Go to the home page'), '.')));
    } else if (route.needsAuth && !auth.user) {
      navigate('/signin?next=' + encodeURIComponent(location.pathname + location.search), { replace: true });
      return;
    } else {
      setTitle(route.title);
      try {
        route.page(ctx, match.slice(1).map(decodeURIComponent), query);
      } catch (e) {
        main.appendChild(errorBox('This page could not be shown: ' + e.message));
      }
    }
    if (!firstRender) {
      var h1 = main.querySelector('h1');
      if (h1) { h1.setAttribute('tabindex', '-1'); h1.focus({ preventScroll: true }); }
      window.scrollTo(0, 0);
    }
    firstRender = false;
  }

  function setTitle(t) {
    document.title = t ? t + ' · Stremora' : 'Stremora';
  }

  function makeCtx(main) {
    var cleanups = [];
    var c = {
      main: main,
      alive: true,
      onCleanup: function (fn) { cleanups.push(fn); },
      interval: function (fn, ms) { var t = window.setInterval(fn, ms); cleanups.push(function () { window.clearInterval(t); }); return t; },
      close: function () {
        c.alive = false;
        cleanups.splice(0).forEach(function (fn) { try { fn(); } catch (e) { /* ignore */ } });
      }
    };
    return c;
  }

  document.addEventListener('click', function (e) {
    if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
    var a = e.target.closest ? e.target.closest('a[href]') : null;
    if (!a || a.target || a.hasAttribute('download')) return;
    var url = new URL(a.href, location.href);
    if (url.origin !== location.origin) return;
    if (/^\/(api|media|assets)\//.test(url.pathname)) return;
    e.preventDefault();
    if (url.pathname === location.pathname && url.search === location.search && url.hash) {
      location.hash = url.hash;
      return;
    }
    navigate(url.pathname + url.search);
  });

  window.addEventListener('popstate', function () { render(); });

  // ---------------------------------------------------------------------------------------
  // Header

  function updateHeader() {
    var signedIn = !!auth.user;
    Array.prototype.forEach.call(document.querySelectorAll('[data-auth]'), function (el) {
      el.hidden = (el.dataset.auth === 'in') !== signedIn;
    });
    var nameLink = $('#nav-username');
    nameLink.textContent = signedIn ? (auth.user.displayName || auth.user.username) : '';
    nameLink.setAttribute('href', signedIn ? channelHref(auth.user) : '/');
    var navName = currentRoute ? currentRoute.nav : null;
    // "Your channel" is current only on your own channel.
    if (navName === 'channel' && !(signedIn && location.pathname === channelHref(auth.user))) navName = null;
    if (signedIn && navName === 'channel') nameLink.setAttribute('aria-current', 'page');
    else nameLink.removeAttribute('aria-current');
    Array.prototype.forEach.call(document.querySelectorAll('.site-nav a[data-nav]'), function (a) {
      if (a.dataset.nav === navName) a.setAttribute('aria-current', 'page');
      else a.removeAttribute('aria-current');
    });
  }

  function closeMenu() {
    var nav = $('#site-nav'), btn = $('#menu-toggle');
    nav.classList.remove('open');
    btn.setAttribute('aria-expanded', 'false');
  }

  $('#menu-toggle').addEventListener('click', function () {
    var nav = $('#site-nav');
    var open = !nav.classList.contains('open');
    nav.classList.toggle('open', open);
    this.setAttribute('aria-expanded', open ? 'true' : 'false');
    if (open) {
      var first = nav.querySelector('li:not([hidden]) a');
      if (first) first.focus();
    }
  });

  document.addEventListener('keydown', function (e) {
    if (e.key === 'Escape' && $('#site-nav').classList.contains('open')) {
      closeMenu();
      $('#menu-toggle').focus();
    }
  });

  $('#signout-button').addEventListener('click', function () { signOut(); });

  // ---------------------------------------------------------------------------------------
  // Shared bits of pages

  function page(title, intro) {
    var sec = h('section', { class: 'page' }, h('h1', { tabindex: '-1' }, title));
    if (intro) sec.appendChild(h('p', { class: 'lead' }, intro));
    return sec;
  }

  function errorBox(msg, retry) {
    return h('div', { class: 'notice error', role: 'alert' },
      h('p', {}, msg),
      retry ? h('button', { type: 'button', class: 'button secondary', onclick: retry }, 'Try again') : null);
  }

  function loadingLine(text) {
    return h('p', { class: 'loading', role: 'status' }, text || 'Loading…');
  }

  function statusBadge(v) {
    if (v.status === 'ready') return h('span', { class: 'badge ready' }, 'Ready');
    if (v.status === 'failed') return h('span', { class: 'badge failed' }, 'Failed');
    return h('span', { class: 'badge processing' }, 'Processing');
  }

  function visibilityBadge(v) {
    if (v.visibility === 'public') return null;
    return h('span', { class: 'badge ' + v.visibility }, v.visibility === 'private' ? 'Private' : 'Unlisted');
  }

  function tagList(tags) {
    if (!tags || !tags.length) return null;
    return h('ul', { class: 'tags', 'aria-label': 'Tags' }, tags.map(function (t) {
      return h('li', {}, h('a', { href: '/' + qs({ tag: t }), class: 'tag', title: '#' + t }, '#' + t));
    }));
  }

  // Thumbnails come from the playback links (signed, expiring): fetched when a card scrolls
  // into view.
  function lazyThumbs(c) {
    var io = null;
    function load(box) {
      var id = box.dataset.videoId;
      api(API + '/videos/' + id + '/playback').then(function (pb) {
        if (!c.alive || !pb || !pb.thumbnail) return;
        var img = h('img', { src: pb.thumbnail, alt: '', loading: 'lazy', decoding: 'async' });
        img.addEventListener('load', function () { box.classList.add('loaded'); });
        box.appendChild(img);
      }).catch(function () { /* the placeholder stays */ });
    }
    if ('IntersectionObserver' in window) {
      io = new IntersectionObserver(function (entries) {
        entries.forEach(function (en) {
          if (en.isIntersecting) { io.unobserve(en.target); load(en.target); }
        });
      }, { rootMargin: '200px' });
      c.onCleanup(function () { io.disconnect(); });
    }
    return function observe(box) {
      if (io) io.observe(box); else load(box);
    };
  }

  function thumbBox(v, observe) {
    var box = h('div', { class: 'thumb', dataset: { videoId: v.id } },
      v.durationSec ? h('span', { class: 'duration' }, fmtDuration(v.durationSec)) : null,
      v.status !== 'ready' ? h('span', { class: 'thumb-state' }, v.status === 'failed' ? 'Failed' : 'Processing…') : null);
    if (v.status === 'ready' && observe) observe(box);
    return box;
  }

  // ---------------------------------------------------------------------------------------
  // Home: public videos, search, tag filter, paging

  function pageHome(c, params, query) {
    var q = (query.get('q') || '').trim();
    var tag = (query.get('tag') || '').trim();
    var cursor = query.get('cursor') || '';
    var state = history.state || {};
    var earlier = Array.isArray(state.cursors) ? state.cursors : [];

    var sec = page(tag ? 'Videos tagged “' + tag + '”' : q ? 'Search results' : 'Latest videos');
    var qf = field({ label: 'Search titles', name: 'q', type: 'search', value: q, attrs: { maxlength: '100', autocomplete: 'off' } });
    var tf = field({ label: 'Tag', name: 'tag', value: tag, attrs: { maxlength: '40', autocomplete: 'off', placeholder: 'e.g. music' } });
    var form = h('form', { class: 'search-form', role: 'search', novalidate: true },
      qf.el, tf.el,
      h('div', { class: 'form-actions' },
        h('button', { type: 'submit', class: 'button' }, 'Search'),
        q || tag ? h('a', { href: '/', class: 'button secondary' }, 'Clear') : null),
      formMessage());
    form.addEventListener('submit', function (e) {
      e.preventDefault();
      var t = tf.input.value.trim();
      if (t.indexOf(',') >= 0) {
        clearErrors(form);
        setFieldError(form, 'tag', 'Search for one tag at a time (no commas).');
        focusFirstInvalid(form);
        return;
      }
      navigate('/' + qs({ q: qf.input.value.trim(), tag: t }));
    });
    sec.appendChild(form);

    var results = h('div', { class: 'results' }, loadingLine('Loading videos…'));
    sec.appendChild(results);
    c.main.appendChild(sec);

    var observe = lazyThumbs(c);
    function load() {
      clear(results).appendChild(loadingLine('Loading videos…'));
      api(API + '/videos' + qs({ limit: PAGE_SIZE, q: q, tag: tag, cursor: cursor }), { auth: false }).then(function (list) {
        if (!c.alive) return;
        clear(results);
        var pageNo = earlier.length + 1;
        if (!list.items.length) {
          results.appendChild(h('div', { class: 'empty' },
            h('p', {}, q || tag ? 'No videos match this search.' : cursor ? 'No more videos.' : 'No videos yet.'),
            auth.user ? h('p', {}, h('a', { href: '/upload' }, 'Upload a video')) :
              h('p', {}, h('a', { href: '/signup' }, 'Create an account'), ' to upload the first one.')));
        } else {
          results.appendChild(h('p', { class: 'sr-only', role: 'status' },
            list.items.length + ' videos on page ' + pageNo + '.'));
          results.appendChild(h('ul', { class: 'video-grid' }, list.items.map(function (v) {
            return videoCard(v, observe);
          })));
        }
        if (earlier.length || list.nextCursor) {
          var pager = h('nav', { class: 'pager', 'aria-label': 'Pages' });
          if (earlier.length) {
            pager.appendChild(h('button', {
              type: 'button', class: 'button secondary', onclick: function () {
                navigate('/' + qs({ q: q, tag: tag, cursor: earlier[earlier.length - 1] }), { state: { cursors: earlier.slice(0, -1) } });
              }
            }, '← Newer'));
          }
          pager.appendChild(h('span', { class: 'page-no' }, 'Page ' + pageNo));
          if (list.nextCursor) {
            pager.appendChild(h('button', {
              type: 'button', class: 'button secondary', onclick: function () {
                navigate('/' + qs({ q: q, tag: tag, cursor: list.nextCursor }), { state: { cursors: earlier.concat([cursor]) } });
              }
            }, 'Older →'));
          }
          results.appendChild(pager);
        }
      }).catch(function (err) {
        if (!c.alive) return;
        clear(results).appendChild(errorBox(err.message, err.code === 'invalid_cursor' ? function () { navigate('/' + qs({ q: q, tag: tag })); } : load));
      });
    }
    load();
  }

  // videoCard(v, observe, {hideOwner, owners}): owners maps an owner id to its card, for a
  // list whose videos come without one.
  function videoCard(v, observe, opts) {
    opts = opts || {};
    var href = '/watch/' + v.id;
    if (!v.owner && opts.owners && opts.owners[v.ownerId]) v = Object.assign({}, v, { owner: opts.owners[v.ownerId] });
    var by = opts.hideOwner ? null : ['by ', v.owner && v.owner.username ?
      h('a', { href: channelHref(v.owner), class: 'card-owner' }, ownerLabel(v)) : ownerLabel(v), ' · '];
    return h('li', { class: 'card' },
      h('a', { href: href, class: 'card-thumb', tabindex: '-1', 'aria-hidden': 'true' }, thumbBox(v, observe)),
      h('div', { class: 'card-body' },
        h('h2', { class: 'card-title' }, h('a', { href: href }, v.title)),
        h('p', { class: 'meta' },
          by,
          typeof v.viewCount === 'number' ? counted(v.viewCount, 'view', 'views') + ' · ' : '',
          fmtDate(v.createdAt),
          v.status !== 'ready' ? ' · ' : '', v.status !== 'ready' ? statusBadge(v) : null),
        tagList(v.tags)));
  }

  // ---------------------------------------------------------------------------------------
  // Sign in / sign up

  // Where to go after signing in: a path of this site only. Resolved as the browser would
  // ("/\\evil.example" and "/\t/evil.example" leave the origin), then checked.
  function safeNext(query) {
    var n = query.get('next') || '';
    var u;
    if (n.charAt(0) !== '/') return '/';
    try { u = new URL(n, location.origin); } catch (e) { return '/'; }
    if (u.origin !== location.origin || /^\/(signin|signup)\b/.test(u.pathname)) return '/';
    return u.pathname + u.search + u.hash;
  }

  function pageSignIn(c, params, query) {
    var next = safeNext(query);
    var sec = page('Sign in');
    if (auth.user) {
      sec.appendChild(h('p', {}, 'You are signed in as ' + auth.user.username + '. ',
        h('a', { href: next }, 'Continue'), '.'));
      c.main.appendChild(sec);
      return;
    }
    var lf = field({ label: 'Username or email', name: 'login', attrs: { required: true, maxlength: '254', autocomplete: 'username', autocapitalize: 'none', spellcheck: 'false' } });
    var pf = field({ label: 'Password', name: 'password', type: 'password', attrs: { required: true, maxlength: '128', autocomplete: 'current-password' } });
    var form = h('form', { class: 'form narrow', novalidate: true },
      formMessage(), lf.el, pf.el,
      h('div', { class: 'form-actions' }, h('button', { type: 'submit', class: 'button' }, 'Sign in')));
    form.addEventListener('submit', function (e) {
      e.preventDefault();
      if (!validateForm(form)) return;
      setBusy(form, true, 'Signing in…');
      login(lf.input.value.trim(), pf.input.value).then(function () {
        announce('Signed in as ' + auth.user.username + '.');
        navigate(next);
      }).catch(function (err) {
        if (!c.alive) return;
        setBusy(form, false);
        showApiError(form, err);
      });
    });
    sec.appendChild(form);
    sec.appendChild(h('p', {}, 'New here? ', h('a', { href: '/signup' + (next !== '/' ? qs({ next: next }) : '') }, 'Create an account'), '.'));
    c.main.appendChild(sec);
    lf.input.focus();
  }

  function login(loginName, password) {
    return fetch(API + '/auth/login', {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
      body: JSON.stringify({ login: loginName, password: password, session: 'cookie' })
    }).then(function (res) {
      if (res.ok) return res.json().then(setSession);
      return readProblem(res).then(function (p) {
        throw new ApiError(res.status, p, parseInt(res.headers.get('Retry-After') || '', 10) || null);
      });
    }, function () { throw new ApiError(0, { code: 'network' }); });
  }

  function pageSignUp(c, params, query) {
    var next = safeNext(query);
    var sec = page('Create an account');
    if (auth.user) {
      sec.appendChild(h('p', {}, 'You are signed in as ' + auth.user.username + '. ', h('a', { href: '/' }, 'Go home'), '.'));
      c.main.appendChild(sec);
      return;
    }
    var uf = field({
      label: 'Username', name: 'username', hint: '3 to 30 characters: lowercase letters, digits, dots, dashes, underscores.',
      attrs: { required: true, minlength: '3', maxlength: '30', pattern: '[a-z0-9_.\\-]{3,30}', autocomplete: 'username', autocapitalize: 'none', spellcheck: 'false' }
    });
    var ef = field({ label: 'Email', name: 'email', type: 'email', attrs: { required: true, maxlength: '254', autocomplete: 'email' } });
    var df = field({ label: 'Display name', name: 'displayName', optional: true, hint: 'Shown to others; defaults to your username.', attrs: { maxlength: '64', autocomplete: 'nickname' } });
    var pf = field({
      label: 'Password', name: 'password', type: 'password', hint: 'At least 8 characters; longer and less guessable is better.',
      attrs: { required: true, minlength: '8', maxlength: '128', autocomplete: 'new-password' }
    });
    var form = h('form', { class: 'form narrow', novalidate: true },
      formMessage(), uf.el, ef.el, df.el, pf.el,
      h('div', { class: 'form-actions' }, h('button', { type: 'submit', class: 'button' }, 'Create account')));
    form.addEventListener('submit', function (e) {
      e.preventDefault();
      if (!validateForm(form)) return;
      var body = { username: uf.input.value.trim(), email: ef.input.value.trim(), password: pf.input.value };
      var dn = df.input.value.trim();
      if (dn) body.displayName = dn;
      setBusy(form, true, 'Creating account…');
      api(API + '/auth/register', { method: 'POST', body: body, auth: false }).then(function () {
        return login(body.username, body.password);
      }).then(function () {
        announce('Welcome, ' + auth.user.username + '. Your account is ready.');
        navigate(next);
      }).catch(function (err) {
        if (!c.alive) return;
        setBusy(form, false);
        showApiError(form, err);
      });
    });
    sec.appendChild(form);
    sec.appendChild(h('p', {}, 'Already have an account? ', h('a', { href: '/signin' + (next !== '/' ? qs({ next: next }) : '') }, 'Sign in'), '.'));
    c.main.appendChild(sec);
    uf.input.focus();
  }

  // ---------------------------------------------------------------------------------------
  // Upload (tus), kept in memory across page changes

  var upl = null; // {upload, file, title, phase, sent, total, videoId, video, error, listeners}
  var uplListeners = [];

  function uplNotify() {
    uplListeners.slice().forEach(function (fn) { fn(); });
    updateUploadBanner();
  }

  var memoryUrlStorage = {
    findAllUploads: function () { return Promise.resolve([]); },
    findUploadsByFingerprint: function () { return Promise.resolve([]); },
    removeUpload: function () { return Promise.resolve(); },
    addUpload: function () { return Promise.resolve(null); }
  };

  function serverUploadLimits() {
    return fetch(API + '/uploads', { method: 'OPTIONS', headers: { 'Tus-Resumable': '1.0.0' } }).then(function (res) {
      return {
        maxSize: parseInt(res.headers.get('Tus-Max-Size') || '', 10) || null,
        maxChunk: parseInt(res.headers.get('Stremora-Max-Chunk-Size') || '', 10) || null
      };
    }, function () { return { maxSize: null, maxChunk: null }; });
  }

  function tusProblem(err) {
    var res = err && err.originalResponse;
    if (!res) return new ApiError(0, { code: 'network' });
    var p = {};
    try { p = JSON.parse(res.getBody() || '{}') || {}; } catch (e) { p = {}; }
    var e = new ApiError(res.getStatus(), p, parseInt(res.getHeader('Retry-After') || '', 10) || null);
    if (e.errors.length) {
      // No form fields to point at here: name them in the message.
      var names = { title: 'Title', description: 'Description', tags: 'Tags', visibility: 'Visibility', filename: 'File name' };
      e.message = e.errors.map(function (fe) {
        return (names[fe.field] || fe.field) + ': ' + fieldMessage(fe.field, fe.code);
      }).join(' ');
    }
    return e;
  }

  function startUpload(file, meta, limits) {
    var chunk = CHUNK_SIZE;
    if (limits.maxChunk && limits.maxChunk < chunk) chunk = limits.maxChunk;
    var metadata = { title: meta.title, filename: file.name, filetype: file.type || 'application/octet-stream', visibility: meta.visibility };
    if (meta.tags) metadata.tags = meta.tags;
    // Upload-Metadata is one header (nginx takes at most 8 KiB, base64 makes a third more):
    // a long description is set on the video once it exists instead.
    var laterDescription = null;
    if (meta.description) {
      if (utf8Length(meta.description) + utf8Length(meta.title) + utf8Length(meta.tags || '') + utf8Length(file.name) > 4500) {
        laterDescription = meta.description;
      } else {
        metadata.description = meta.description;
      }
    }
    var state = {
      file: file, title: meta.title, phase: 'uploading', sent: 0, total: file.size,
      videoId: null, video: null, error: null, upload: null, url: null, pollTimer: 0, resumable: false
    };
    var authRetries = 0;
    var upload = new tus.Upload(file, {
      endpoint: API + '/uploads',
      chunkSize: chunk,
      retryDelays: [0, 1000, 3000, 5000, 10000],
      metadata: metadata,
      storeFingerprintForResuming: false,
      removeFingerprintOnSuccess: true,
      urlStorage: memoryUrlStorage,
      onBeforeRequest: function (req) {
        return ensureFreshToken().then(function () {
          if (auth.token) req.setHeader('Authorization', 'Bearer ' + auth.token);
        });
      },
      onAfterResponse: function (req, res) {
        var id = res.getHeader('Stremora-Video-Id');
        if (id && /^[0-9a-f]{24}$/.test(id)) state.videoId = id;
      },
      onShouldRetry: function (err, attempt) {
        var s = err && err.originalResponse ? err.originalResponse.getStatus() : 0;
        if (s === 401 && authRetries < 2) {
          authRetries += 1;
          refreshSession();
          return true;
        }
        if (s === 409 || s === 423 || s === 429 || s >= 500 || s === 0) return true;
        return false;
      },
      onUploadUrlAvailable: function () { state.url = upload.url; },
      onProgress: function (sent, total) {
        state.sent = sent;
        state.total = total;
        uplNotify();
      },
      onSuccess: function () {
        state.sent = state.total;
        window.removeEventListener('beforeunload', warnUnload);
        // The upload's id is its video's id, should the header have gone missing.
        var m = !state.videoId && upload.url ? /\/([0-9a-f]{24})$/.exec(upload.url) : null;
        if (m) state.videoId = m[1];
        if (!state.videoId) {
          state.phase = 'done-unknown';
          uplNotify();
          return;
        }
        state.phase = 'processing';
        uplNotify();
        if (laterDescription) {
          api(API + '/videos/' + state.videoId, { method: 'PATCH', body: { description: laterDescription } })
            .catch(function (err) { announce('The description could not be saved: ' + err.message); });
        }
        pollProcessing(state);
      },
      onError: function (err) {
        window.removeEventListener('beforeunload', warnUnload);
        state.phase = 'error';
        state.error = tusProblem(err);
        // Worth resuming after a network or server trouble, not once the upload is gone.
        state.resumable = !!upload.url && [404, 410, 413, 415, 422].indexOf(state.error.status) < 0;
        uplNotify();
      }
    });
    state.upload = upload;
    upl = state;
    window.addEventListener('beforeunload', warnUnload);
    upload.start();
    uplNotify();
  }

  function warnUnload(e) {
    if (upl && (upl.phase === 'uploading' || upl.phase === 'paused')) {
      e.preventDefault();
      e.returnValue = '';
    }
  }

  function pollProcessing(state) {
    function tick() {
      if (upl !== state) return;
      api(API + '/videos/' + state.videoId).then(function (v) {
        if (upl !== state) return;
        state.video = v;
        if (v.status === 'ready') { state.phase = 'ready'; announce('“' + v.title + '” is ready to watch.'); }
        else if (v.status === 'failed') { state.phase = 'failed'; announce('Processing failed: ' + (v.failureReason || 'unknown reason')); }
        uplNotify();
        if (state.phase === 'processing') state.pollTimer = window.setTimeout(tick, 1000);
      }).catch(function (err) {
        if (upl !== state) return;
        if (err.status === 404) { state.phase = 'error'; state.error = err; uplNotify(); return; }
        state.pollTimer = window.setTimeout(tick, 2000);
      });
    }
    tick();
  }

  function pauseUpload() {
    if (!upl || upl.phase !== 'uploading') return;
    upl.upload.abort();
    upl.phase = 'paused';
    announce('Upload paused at ' + uploadPercent(upl) + ' %.');
    uplNotify();
  }

  function resumeUpload() {
    if (!upl || (upl.phase !== 'paused' && upl.phase !== 'error')) return;
    if (upl.phase === 'error' && !upl.resumable) return;
    upl.phase = 'uploading';
    upl.error = null;
    window.addEventListener('beforeunload', warnUnload);
    upl.upload.start();
    announce('Upload resumed.');
    uplNotify();
  }

  function cancelUpload() {
    if (!upl) return;
    var state = upl;
    window.clearTimeout(state.pollTimer);
    window.removeEventListener('beforeunload', warnUnload);
    if (state.phase === 'uploading' || state.phase === 'paused') {
      state.upload.abort(true).catch(function () { /* it expires on the server */ });
    }
    upl = null;
    uplNotify();
  }

  function uploadPercent(s) {
    if (!s.total) return 0;
    return Math.floor((s.sent / s.total) * 100);
  }

  function updateUploadBanner() {
    var b = $('#upload-banner');
    var show = upl && (upl.phase === 'uploading' || upl.phase === 'paused' || upl.phase === 'processing') &&
      !(currentRoute && currentRoute.nav === 'upload');
    b.hidden = !show;
    if (!show) return;
    var text = upl.phase === 'processing' ? 'Processing “' + upl.title + '”' :
      (upl.phase === 'paused' ? 'Upload paused: “' : 'Uploading “') + upl.title + '” · ' + uploadPercent(upl) + ' %';
    clear(b).appendChild(h('p', {}, text + ' · ', h('a', { href: '/upload' }, 'Show upload')));
  }

  function pageUpload(c) {
    var sec = page('Upload a video');
    c.main.appendChild(sec);
    if (!auth.user) {
      sec.appendChild(h('div', { class: 'notice' },
        h('p', {}, 'Sign in to upload videos.'),
        h('p', {}, h('a', { href: '/signin?next=%2Fupload', class: 'button' }, 'Sign in'), ' ',
          h('a', { href: '/signup?next=%2Fupload', class: 'button secondary' }, 'Create an account'))));
      return;
    }
    var holder = h('div');
    sec.appendChild(holder);
    function show() {
      clear(holder);
      if (upl) holder.appendChild(uploadPanel(c, show));
      else holder.appendChild(uploadForm(c));
    }
    show();
  }

  function uploadForm(c) {
    var chosen = null;
    var fileId = uid('f-file');
    var fileInput = h('input', { type: 'file', id: fileId, name: 'file', accept: 'video/*,.mkv,.mov,.avi,.flv,.ts,.ogv', class: 'file-input', required: true, 'aria-describedby': fileId + '-error ' + fileId + '-chosen' });
    var chosenLine = h('p', { class: 'chosen', id: fileId + '-chosen', 'aria-live': 'polite' }, 'No file chosen.');
    var drop = h('div', { class: 'dropzone field', dataset: { field: 'file' } },
      h('label', { for: fileId, class: 'drop-label' },
        h('span', { class: 'drop-title' }, 'Choose a video file'),
        h('span', { class: 'drop-sub' }, 'or drop it here')),
      fileInput, chosenLine,
      h('p', { class: 'field-error', id: fileId + '-error', hidden: true }));
    var tf = field({ label: 'Title', name: 'title', attrs: { required: true, maxlength: '200' } });
    var df = field({ label: 'Description', name: 'description', type: 'textarea', optional: true, attrs: { maxlength: '5000', rows: '4' } });
    var gf = field({ label: 'Tags', name: 'tags', optional: true, hint: 'Separate tags with commas, e.g. travel, music. Up to 20.', attrs: { autocomplete: 'off' } });
    var vf = field({ label: 'Visibility', name: 'visibility', type: 'select', value: 'public',
      options: [['public', 'Public: listed for everyone'], ['unlisted', 'Unlisted: anyone with the link'], ['private', 'Private: only you']] });

    function choose(file) {
      chosen = file || null;
      if (!chosen) { chosenLine.textContent = 'No file chosen.'; return; }
      chosenLine.textContent = 'Chosen: ' + chosen.name + ' (' + fmtBytes(chosen.size) + ')';
      if (!tf.input.value.trim()) tf.input.value = chosen.name.replace(/\.[^.]+$/, '').replace(/[\u0000-\u001f\u007f-\u009f]/g, ' ').slice(0, 200);
      var err = drop.querySelector('.field-error');
      err.hidden = true;
      fileInput.removeAttribute('aria-invalid');
    }
    fileInput.addEventListener('change', function () { choose(fileInput.files[0]); });
    ['dragenter', 'dragover'].forEach(function (ev) {
      drop.addEventListener(ev, function (e) { e.preventDefault(); drop.classList.add('dragging'); });
    });
    ['dragleave', 'dragend'].forEach(function (ev) {
      drop.addEventListener(ev, function () { drop.classList.remove('dragging'); });
    });
    drop.addEventListener('drop', function (e) {
      e.preventDefault();
      drop.classList.remove('dragging');
      var f = e.dataTransfer && e.dataTransfer.files && e.dataTransfer.files[0];
      if (f) {
        try { fileInput.files = e.dataTransfer.files; } catch (x) { /* older browsers */ }
        choose(f);
      }
    });

    var form = h('form', { class: 'form', novalidate: true },
      formMessage(), drop, tf.el, df.el, gf.el, vf.el,
      h('div', { class: 'form-actions' }, h('button', { type: 'submit', class: 'button' }, 'Upload')));
    form.addEventListener('submit', function (e) {
      e.preventDefault();
      var ok = validateForm(form, function () {
        var errs = [];
        if (!chosen) errs.push(['file', 'Choose a video file to upload.']);
        else if (!chosen.size) errs.push(['file', 'This file is empty.']);
        var tags = parseTags(gf.input.value);
        if (tags.length > 20) errs.push(['tags', 'Use at most 20 tags.']);
        else if (tags.some(function (t) { return cpLength(t) > 40; })) errs.push(['tags', 'Each tag can be at most 40 characters.']);
        if (!tf.input.value.trim()) errs.push(['title', 'Give the video a title.']);
        return errs;
      });
      if (!ok) return;
      setBusy(form, true, 'Starting…');
      serverUploadLimits().then(function (limits) {
        if (!c.alive) return;
        if (limits.maxSize && chosen.size > limits.maxSize) {
          setBusy(form, false);
          clearErrors(form);
          setFieldError(form, 'file', 'This file is ' + fmtBytes(chosen.size) + '; the server accepts up to ' + fmtBytes(limits.maxSize) + '.');
          focusFirstInvalid(form);
          return;
        }
        startUpload(chosen, {
          title: tf.input.value.trim(),
          description: df.input.value,
          tags: parseTags(gf.input.value).join(','),
          visibility: vf.input.value
        }, limits);
        render();
      });
    });
    return form;
  }

  function uploadPanel(c, reshow) {
    var s = upl;
    var progId = uid('upl-progress');
    var progress = h('progress', { id: progId, max: '100', value: '0', class: 'upload-progress' });
    var pctText = h('p', { class: 'progress-text', id: progId + '-text' });
    var live = h('p', { class: 'sr-only', 'aria-live': 'polite', 'aria-atomic': 'true' });
    var stateLine = h('p', { class: 'upload-state', role: 'status' });
    var pauseBtn = h('button', { type: 'button', class: 'button secondary', onclick: pauseUpload }, 'Pause');
    var resumeBtn = h('button', { type: 'button', class: 'button', onclick: resumeUpload }, 'Resume');
    var cancelBtn = h('button', {
      type: 'button', class: 'button secondary danger-text', onclick: function () {
        confirmDialog({ title: 'Cancel this upload?', body: 'What has been sent so far is discarded.', confirm: 'Cancel upload', cancel: 'Keep uploading', danger: true })
          .then(function (yes) { if (yes) { cancelUpload(); reshow(); } });
      }
    }, 'Cancel');
    var procBox = h('div', { class: 'processing-box' });
    var after = h('div', { class: 'after' });
    var lastSpoken = -1;

    var panel = h('section', { class: 'upload-panel', 'aria-labelledby': progId + '-h' },
      h('h2', { id: progId + '-h' }, '“' + s.title + '”'),
      h('p', { class: 'meta' }, s.file.name + ' · ' + fmtBytes(s.total)),
      h('label', { for: progId, class: 'progress-label' }, 'Upload progress'),
      progress, pctText, live, stateLine,
      h('div', { class: 'form-actions' }, pauseBtn, resumeBtn, cancelBtn),
      procBox, after);

    function update() {
      if (upl !== s) return;
      var pct = uploadPercent(s);
      progress.value = pct;
      progress.setAttribute('aria-valuetext', pct + ' percent');
      pctText.textContent = pct + ' % · ' + fmtBytes(s.sent) + ' of ' + fmtBytes(s.total);
      panel.dataset.phase = s.phase;
      panel.dataset.percent = String(pct);
      panel.dataset.sent = String(s.sent);
      var step = Math.floor(pct / 10) * 10;
      if (s.phase === 'uploading' && step !== lastSpoken) {
        lastSpoken = step;
        live.textContent = 'Uploaded ' + step + ' %';
      }
      pauseBtn.hidden = s.phase !== 'uploading';
      resumeBtn.hidden = !(s.phase === 'paused' || (s.phase === 'error' && s.resumable));
      cancelBtn.hidden = !(s.phase === 'uploading' || s.phase === 'paused' || s.phase === 'error');
      var words = {
        uploading: 'Uploading…',
        paused: 'Paused. Resume to continue from where it stopped.',
        processing: 'Upload complete. Processing…',
        ready: 'Ready.',
        failed: 'Processing failed.',
        'done-unknown': 'Upload complete.',
        error: 'The upload stopped: ' + (s.error ? s.error.message : 'unknown error')
      };
      stateLine.textContent = words[s.phase] || '';
      stateLine.classList.toggle('error-text', s.phase === 'error' || s.phase === 'failed');

      clear(procBox);
      if (s.phase === 'processing' || s.phase === 'ready' || s.phase === 'failed') {
        var v = s.video;
        var pid = uid('proc');
        var pp = v && v.processing && v.processing.percent !== null ? v.processing.percent : null;
        var bar = h('progress', { id: pid, max: '100', class: 'processing-progress' });
        if (s.phase !== 'processing') bar.value = 100; else if (pp !== null) bar.value = pp;
        procBox.appendChild(h('label', { for: pid, class: 'progress-label' }, 'Processing'));
        procBox.appendChild(bar);
        procBox.appendChild(h('p', { class: 'progress-text processing-text', 'aria-live': 'polite' },
          s.phase === 'processing' ? (v ? processingText(v) : 'Waiting for a worker') :
            s.phase === 'ready' ? 'Done' : 'Stopped'));
      }
      clear(after);
      if (s.phase === 'ready') {
        after.appendChild(h('div', { class: 'notice ok' },
          h('p', {}, '“' + s.video.title + '” is ready. ', h('a', { href: '/watch/' + s.videoId, class: 'watch-link' }, 'Watch it'), ' or ',
            h('a', { href: '/me/videos' }, 'manage your videos'), '.')));
      } else if (s.phase === 'failed') {
        after.appendChild(errorBox('Processing failed: ' + (s.video.failureReason || 'no reason given') + '.'));
      } else if (s.phase === 'done-unknown') {
        after.appendChild(h('p', {}, 'Find it in ', h('a', { href: '/me/videos' }, 'My videos'), '.'));
      }
      if (s.phase === 'ready' || s.phase === 'failed' || s.phase === 'done-unknown' || (s.phase === 'error' && !s.resumable)) {
        after.appendChild(h('button', {
          type: 'button', class: 'button secondary', onclick: function () { cancelUpload(); reshow(); }
        }, 'Upload another video'));
      }
    }
    uplListeners.push(update);
    c.onCleanup(function () { uplListeners = uplListeners.filter(function (f) { return f !== update; }); });
    update();
    return panel;
  }

  // ---------------------------------------------------------------------------------------
  // Watch

  function pageWatch(c, params, query) {
    var id = params[0];
    var listId = query && /^[0-9a-f]{24}$/.test(query.get('list') || '') ? query.get('list') : null;
    var sec = h('section', { class: 'page watch' });
    c.main.appendChild(sec);
    if (!/^[0-9a-f]{24}$/.test(id)) {
      sec.appendChild(h('h1', { tabindex: '-1' }, 'Video not found'));
      sec.appendChild(h('p', {}, 'This address does not name a video. ', h('a', { href: '/' }, 'Browse videos'), '.'));
      return;
    }
    sec.appendChild(h('h1', { tabindex: '-1', class: 'sr-only' }, 'Loading video'));
    sec.appendChild(loadingLine('Loading video…'));
    api(API + '/videos/' + id).then(function (v) {
      if (!c.alive) return;
      showVideo(c, sec, v, listId);
    }).catch(function (err) {
      if (!c.alive) return;
      clear(sec);
      setTitle('Video not found');
      sec.appendChild(h('h1', { tabindex: '-1' }, err.status === 404 ? 'Video not found' : 'Could not load the video'));
      sec.appendChild(errorBox(err.message, err.status === 404 ? null : function () { render(); }));
      if (err.status === 404 && !auth.user) sec.appendChild(h('p', {}, 'If it is your private video, ', h('a', { href: '/signin?next=' + encodeURIComponent('/watch/' + id) }, 'sign in'), ' to see it.'));
    });
  }

  function showVideo(c, sec, v, listId) {
    clear(sec);
    setTitle(v.title);
    var stage = h('div', { class: 'player-stage' });
    var controls = h('div', { class: 'player-controls' });
    var saveBtn = h('button', { type: 'button', class: 'chip save', 'aria-haspopup': 'dialog' }, icon('save'), h('span', {}, 'Save'));
    saveBtn.addEventListener('click', function () {
      if (!auth.user) { goSignIn(); return; }
      saveDialog(v, saveBtn);
    });
    var info = h('div', { class: 'video-info' },
      h('h1', { tabindex: '-1' }, v.title),
      h('p', { class: 'meta' },
        v.owner ? null : 'by ' + ownerLabel(v) + ' · ',
        typeof v.viewCount === 'number' ? counted(v.viewCount, 'view', 'views') + ' · ' : '',
        v.durationSec ? fmtDuration(v.durationSec) + ' · ' : '',
        fmtDate(v.createdAt), ' ',
        visibilityBadge(v)),
      h('div', { class: 'video-actions' },
        v.owner ? ownerRow(c, v.owner) : null,
        h('div', { class: 'video-buttons' }, ratingBar(v), saveBtn)),
      v.description ? h('p', { class: 'description' }, v.description) : null,
      tagList(v.tags),
      auth.user && v.ownerId === auth.user.id ? h('p', {}, h('a', { href: '/me/videos' }, 'Edit in My videos')) : null);
    var plPanel = listId ? playlistPanel(c, listId, v.id) : null;
    // With a playlist the page is a grid: the queue beside everything on wide screens, under
    // the player on phones.
    sec.classList.toggle('with-playlist', !!plPanel);
    sec.appendChild(stage);
    sec.appendChild(controls);
    if (plPanel) sec.appendChild(plPanel.el);
    sec.appendChild(info);
    sec.appendChild(commentsSection(c, { kind: 'video', id: v.id, ownerId: v.ownerId, enabled: v.commentsEnabled !== false, count: v.commentCount }));
    function onEnded() {
      var next = plPanel && plPanel.next();
      if (next && c.alive) navigate('/watch/' + next + '?list=' + listId);
    }

    if (v.status === 'processing') {
      var pid = uid('wp');
      var bar = h('progress', { id: pid, max: '100' });
      var txt = h('p', { class: 'progress-text', 'aria-live': 'polite' }, processingText(v));
      stage.appendChild(h('div', { class: 'player-placeholder' },
        h('label', { for: pid }, 'This video is still processing'), bar, txt));
      var setBar = function (vv) {
        var p = vv.processing && vv.processing.percent;
        if (p === null || p === undefined) bar.removeAttribute('value'); else bar.value = p;
        txt.textContent = processingText(vv);
      };
      setBar(v);
      var poll = c.interval(function () {
        api(API + '/videos/' + v.id).then(function (nv) {
          if (!c.alive) return;
          if (nv.status !== 'processing') { window.clearInterval(poll); showVideo(c, sec, nv, listId); }
          else setBar(nv);
        }).catch(function () { /* keep polling */ });
      }, 1000);
      return;
    }
    if (v.status === 'failed') {
      stage.appendChild(h('div', { class: 'player-placeholder' },
        errorBox('This video could not be processed: ' + (v.failureReason || 'no reason given') + '.')));
      return;
    }
    stage.appendChild(loadingLine('Loading player…'));
    api(API + '/videos/' + v.id + '/playback').then(function (pb) {
      if (!c.alive) return;
      clear(stage);
      if (!pb.hls) { stage.appendChild(errorBox('This video has no stream yet.')); return; }
      setupPlayer(c, stage, controls, v, pb, plPanel ? onEnded : null);
    }).catch(function (err) {
      if (!c.alive) return;
      clear(stage).appendChild(errorBox(err.message, function () { showVideo(c, sec, v, listId); }));
    });
  }

  function levelLabel(l) {
    var short = Math.min(l.width || l.height, l.height || l.width);
    return (short || l.height) + 'p';
  }

  // onEnded (optional) runs when the video plays to its end (a playlist goes on to the next).
  function setupPlayer(c, stage, controls, v, pb, onEnded) {
    var videoEl = h('video', {
      controls: true, playsinline: true, preload: 'auto', class: 'player',
      'aria-label': 'Video: ' + v.title, dataset: { level: 'auto' }
    });
    videoEl.muted = true; // muted autoplay only
    videoEl.autoplay = true;
    if (pb.thumbnail) videoEl.poster = pb.thumbnail;
    if (onEnded) videoEl.addEventListener('ended', onEnded);
    var msg = h('div', { class: 'player-message', role: 'alert', hidden: true });
    stage.appendChild(videoEl);
    stage.appendChild(msg);

    var selId = uid('quality');
    var select = h('select', { id: selId, name: 'quality', disabled: true }, h('option', { value: 'auto' }, 'Auto'));
    var playing = h('span', { class: 'playing-level', 'aria-live': 'polite' });
    controls.appendChild(h('div', { class: 'quality' }, h('label', { for: selId }, 'Quality'), select, playing));

    function fail(text) {
      msg.textContent = text;
      msg.hidden = false;
    }

    var Hls = window.Hls;
    if (Hls && Hls.isSupported()) {
      var hls = new Hls({ enableWorker: false, capLevelToPlayerSize: false, startLevel: -1 });
      c.onCleanup(function () { hls.destroy(); });
      var mediaRecoveries = 0, relinkedAt = 0;
      var pref = null;
      try { pref = localStorage.getItem(PREF_QUALITY); } catch (e) { pref = null; }

      hls.on(Hls.Events.MANIFEST_PARSED, function () {
        var order = hls.levels.map(function (l, i) { return i; }).sort(function (a, b) {
          return hls.levels[b].height - hls.levels[a].height || hls.levels[b].bitrate - hls.levels[a].bitrate;
        });
        clear(select).appendChild(h('option', { value: 'auto' }, 'Auto'));
        order.forEach(function (i) {
          select.appendChild(h('option', { value: String(i) }, levelLabel(hls.levels[i])));
        });
        select.disabled = hls.levels.length < 1;
        if (pref && pref !== 'auto') {
          var want = order.filter(function (i) { return String(hls.levels[i].height) === pref; })[0];
          if (want !== undefined) {
            hls.loadLevel = want;
            select.value = String(want);
            videoEl.dataset.level = String(hls.levels[want].height);
          }
        }
        var p = videoEl.play();
        if (p && p.catch) p.catch(function () { /* autoplay refused: the controls are there */ });
      });
      hls.on(Hls.Events.LEVEL_SWITCHED, function (ev, data) {
        var l = hls.levels[data.level];
        if (!l) return;
        videoEl.dataset.playingLevel = String(l.height);
        playing.textContent = select.value === 'auto' ? 'Playing ' + levelLabel(l) : '';
      });
      hls.on(Hls.Events.ERROR, function (ev, data) {
        if (!data.fatal) return;
        videoEl.dataset.hlsFatal = '1';
        var code = data.response && data.response.code;
        if (data.type === Hls.ErrorTypes.NETWORK_ERROR && (code === 403 || code === 404) && Date.now() - relinkedAt > 60000) {
          // The signed links expired (or the key rotated): get fresh ones and go on.
          relinkedAt = Date.now();
          var at = videoEl.currentTime;
          api(API + '/videos/' + v.id + '/playback').then(function (fresh) {
            if (!c.alive || !fresh.hls) return;
            hls.loadSource(fresh.hls);
            hls.startLoad(at);
          }).catch(function (err) { fail(err.message); });
        } else if (data.type === Hls.ErrorTypes.MEDIA_ERROR && mediaRecoveries < 2) {
          mediaRecoveries += 1;
          if (mediaRecoveries === 2) hls.swapAudioCodec();
          hls.recoverMediaError();
        } else if (data.type === Hls.ErrorTypes.NETWORK_ERROR) {
          fail('The video stream could not be loaded. Check your connection and reload the page.');
        } else {
          fail('This video cannot be played in your browser.');
        }
      });
      select.addEventListener('change', function () {
        var val = select.value;
        if (val === 'auto') {
          hls.currentLevel = -1;
          videoEl.dataset.level = 'auto';
        } else {
          var idx = parseInt(val, 10);
          hls.currentLevel = idx;
          videoEl.dataset.level = String(hls.levels[idx].height);
          playing.textContent = '';
        }
        try { localStorage.setItem(PREF_QUALITY, videoEl.dataset.level); } catch (e) { /* private mode */ }
        announce('Quality: ' + select.options[select.selectedIndex].text + '.');
      });
      hls.loadSource(pb.hls);
      hls.attachMedia(videoEl);
    } else if (videoEl.canPlayType('application/vnd.apple.mpegurl')) {
      // Native HLS (Safari): the browser picks the quality itself.
      videoEl.src = pb.hls;
      select.title = 'This browser chooses the quality itself';
    } else {
      fail('Your browser cannot play this video (it needs HLS or Media Source Extensions).');
    }
  }

  // ---------------------------------------------------------------------------------------
  // My videos

  function pageMyVideos(c) {
    var sec = page('My videos');
    var actions = h('p', {}, h('a', { href: '/upload', class: 'button' }, 'Upload a video'));
    var listEl = h('ul', { class: 'my-videos' });
    var status = h('div', { class: 'list-status', role: 'status' }, loadingLine('Loading your videos…'));
    var more = h('div', { class: 'load-more' });
    sec.appendChild(actions);
    sec.appendChild(status);
    sec.appendChild(listEl);
    sec.appendChild(more);
    c.main.appendChild(sec);

    var rows = {}; // id -> {v, li, update}
    var observe = lazyThumbs(c);

    function load(cursor) {
      clear(more);
      api(API + '/videos' + qs({ owner: auth.user.id, limit: PAGE_SIZE, cursor: cursor })).then(function (list) {
        if (!c.alive) return;
        clear(status);
        list.items.forEach(function (v) {
          if (rows[v.id]) return;
          var r = myVideoRow(c, v, observe, function removed() {
            delete rows[v.id];
            if (!Object.keys(rows).length) showEmpty();
          });
          rows[v.id] = r;
          listEl.appendChild(r.li);
        });
        if (!Object.keys(rows).length) showEmpty();
        if (list.nextCursor) {
          more.appendChild(h('button', { type: 'button', class: 'button secondary', onclick: function () { load(list.nextCursor); } }, 'Load more'));
        }
      }).catch(function (err) {
        if (!c.alive) return;
        clear(status).appendChild(errorBox(err.message, function () { clear(status); load(cursor); }));
      });
    }
    function showEmpty() {
      clear(status).appendChild(h('div', { class: 'empty' },
        h('p', {}, 'You have not uploaded any videos yet.')));
    }
    load('');

    // Poll the videos still processing.
    c.interval(function () {
      Object.keys(rows).forEach(function (id) {
        var r = rows[id];
        if (r.v.status !== 'processing' || r.polling) return;
        r.polling = true;
        api(API + '/videos/' + id).then(function (nv) {
          r.polling = false;
          if (c.alive && rows[id]) r.update(nv);
        }).catch(function () { r.polling = false; });
      });
    }, 1500);
  }

  function myVideoRow(c, v, observe, onRemoved) {
    var r = { v: v, polling: false };
    var titleId = uid('vt');
    var titleLink = h('a', { href: '/watch/' + v.id, id: titleId }, v.title);
    var statusEl = h('div', { class: 'row-status' });
    var note = h('p', { class: 'row-note', role: 'status', 'aria-live': 'polite' });
    var thumbWrap = h('a', { href: '/watch/' + v.id, class: 'row-thumb', tabindex: '-1', 'aria-hidden': 'true' }, thumbBox(v, observe));
    var visId = uid('vis');
    var vis = h('select', { id: visId, name: 'visibility' },
      h('option', { value: 'public' }, 'Public'),
      h('option', { value: 'unlisted' }, 'Unlisted'),
      h('option', { value: 'private' }, 'Private'));
    vis.value = v.visibility;
    var editBtn = h('button', { type: 'button', class: 'button secondary', 'aria-expanded': 'false', 'aria-describedby': titleId }, 'Edit');
    var delBtn = h('button', { type: 'button', class: 'button secondary danger-text', 'aria-describedby': titleId }, 'Delete');
    var editHolder = h('div', { class: 'edit-holder' });
    var li = h('li', { class: 'my-video', dataset: { videoId: v.id } },
      thumbWrap,
      h('div', { class: 'row-main' },
        h('h2', { class: 'row-title' }, titleLink),
        statusEl,
        h('div', { class: 'row-controls' },
          h('div', { class: 'inline-field' }, h('label', { for: visId }, 'Visibility'), vis),
          editBtn, delBtn),
        note,
        editHolder));
    r.li = li;

    function setNote(text, isError) {
      note.textContent = text;
      note.classList.toggle('error-text', !!isError);
    }

    r.update = function (nv) {
      var becameReady = r.v.status !== 'ready' && nv.status === 'ready';
      r.v = nv;
      titleLink.textContent = nv.title;
      li.dataset.status = nv.status;
      clear(statusEl);
      statusEl.appendChild(h('p', { class: 'meta' }, statusBadge(nv), ' ',
        nv.durationSec ? fmtDuration(nv.durationSec) + ' · ' : '',
        'uploaded ' + fmtDate(nv.createdAt),
        nv.renditions && nv.renditions.length ? ' · ' + nv.renditions.map(function (x) { return x.name; }).join(', ') : ''));
      if (nv.status === 'processing') {
        var pid = uid('pp');
        var bar = h('progress', { id: pid, max: '100' });
        if (nv.processing && nv.processing.percent !== null && nv.processing.percent !== undefined) bar.value = nv.processing.percent;
        statusEl.appendChild(h('div', { class: 'row-progress' },
          h('label', { for: pid }, processingText(nv)), bar));
      } else if (nv.status === 'failed') {
        statusEl.appendChild(h('p', { class: 'error-text' }, 'Processing failed: ' + (nv.failureReason || 'no reason given') + '.'));
      }
      if (becameReady) {
        clear(thumbWrap).appendChild(thumbBox(nv, observe));
        announce('“' + nv.title + '” is ready.');
      }
    };
    r.update(v);

    vis.addEventListener('change', function () {
      var want = vis.value, was = r.v.visibility;
      vis.disabled = true;
      setNote('Saving visibility…');
      api(API + '/videos/' + v.id, { method: 'PATCH', body: { visibility: want } }).then(function (nv) {
        vis.disabled = false;
        r.update(nv);
        setNote('Visibility saved: ' + want + '.');
      }).catch(function (err) {
        vis.disabled = false;
        vis.value = was;
        setNote(err.message, true);
      });
    });

    editBtn.addEventListener('click', function () {
      if (editHolder.firstChild) { closeEdit(); return; }
      var tf = field({ label: 'Title', name: 'title', value: r.v.title, attrs: { required: true, maxlength: '200' } });
      var df = field({ label: 'Description', name: 'description', type: 'textarea', value: r.v.description, attrs: { maxlength: '5000', rows: '3' } });
      var gf = field({ label: 'Tags', name: 'tags', value: r.v.tags.join(', '), hint: 'Separate tags with commas.', attrs: { autocomplete: 'off' } });
      var form = h('form', { class: 'form edit-form', novalidate: true, 'aria-label': 'Edit “' + r.v.title + '”' },
        formMessage(), tf.el, df.el, gf.el,
        h('div', { class: 'form-actions' },
          h('button', { type: 'submit', class: 'button' }, 'Save'),
          h('button', { type: 'button', class: 'button secondary', onclick: closeEdit }, 'Cancel')));
      form.addEventListener('submit', function (e) {
        e.preventDefault();
        if (!validateForm(form, function () {
          var tags = parseTags(gf.input.value), errs = [];
          if (!tf.input.value.trim()) errs.push(['title', 'Give the video a title.']);
          if (tags.length > 20) errs.push(['tags', 'Use at most 20 tags.']);
          else if (tags.some(function (t) { return cpLength(t) > 40; })) errs.push(['tags', 'Each tag can be at most 40 characters.']);
          return errs;
        })) return;
        setBusy(form, true, 'Saving…');
        api(API + '/videos/' + v.id, {
          method: 'PATCH',
          body: { title: tf.input.value.trim(), description: df.input.value, tags: parseTags(gf.input.value) }
        }).then(function (nv) {
          r.update(nv);
          closeEdit();
          setNote('Changes saved.');
        }).catch(function (err) {
          setBusy(form, false);
          showApiError(form, err);
        });
      });
      editHolder.appendChild(form);
      editBtn.setAttribute('aria-expanded', 'true');
      editBtn.textContent = 'Close editor';
      setNote('');
      tf.input.focus();
    });

    function closeEdit() {
      clear(editHolder);
      editBtn.setAttribute('aria-expanded', 'false');
      editBtn.textContent = 'Edit';
      editBtn.focus();
    }

    delBtn.addEventListener('click', function () {
      confirmDialog({
        title: 'Delete this video?',
        body: '“' + r.v.title + '” and all its files will be deleted. This cannot be undone.',
        confirm: 'Delete video',
        danger: true
      }).then(function (yes) {
        if (!yes) return;
        delBtn.disabled = true;
        setNote('Deleting…');
        api(API + '/videos/' + v.id, { method: 'DELETE' }).then(function () {
          var next = li.nextElementSibling || li.previousElementSibling;
          li.remove();
          announce('Deleted “' + r.v.title + '”.');
          onRemoved();
          var target = next ? next.querySelector('a:not([tabindex])') : $('#main h1');
          if (target) target.focus();
        }).catch(function (err) {
          delBtn.disabled = false;
          setNote(err.message, true);
        });
      });
    });
    return r;
  }

  // ---------------------------------------------------------------------------------------
  // Account

  function pageAccount(c) {
    var u = auth.user;
    var sec = page('Account');
    c.main.appendChild(sec);

    var summary = h('dl', { class: 'facts' },
      h('dt', {}, 'Username'), h('dd', { class: 'acct-username' }, u.username),
      h('dt', {}, 'Email'), h('dd', { class: 'acct-email' }, u.email),
      h('dt', {}, 'Member since'), h('dd', {}, fmtDate(u.createdAt)));
    sec.appendChild(summary);

    function refreshSummary() {
      summary.querySelector('.acct-email').textContent = auth.user.email;
    }

    // Display name
    var dn = field({ label: 'Display name', name: 'displayName', value: u.displayName, attrs: { required: true, maxlength: '64', autocomplete: 'nickname' } });
    var f1 = h('form', { class: 'form', novalidate: true },
      formMessage(), dn.el,
      h('div', { class: 'form-actions' }, h('button', { type: 'submit', class: 'button' }, 'Save display name')));
    f1.addEventListener('submit', function (e) {
      e.preventDefault();
      if (!validateForm(f1, function () { return dn.input.value.trim() ? [] : [['displayName', 'This can’t be empty.']]; })) return;
      setBusy(f1, true, 'Saving…');
      api(API + '/users/me', { method: 'PATCH', body: { displayName: dn.input.value.trim() } }).then(function (nu) {
        auth.user = nu;
        updateHeader();
        setBusy(f1, false);
        setFormMessage(f1, 'Display name saved.', true);
      }).catch(function (err) { setBusy(f1, false); showApiError(f1, err); });
    });
    sec.appendChild(h('section', { class: 'panel', 'aria-labelledby': 'acct-profile' }, h('h2', { id: 'acct-profile' }, 'Profile'), f1));
    channelPanel(c, sec);

    // Email
    var em = field({ label: 'New email', name: 'email', type: 'email', attrs: { required: true, maxlength: '254', autocomplete: 'email' } });
    var ecp = field({ label: 'Current password', name: 'currentPassword', type: 'password', hint: 'Needed to change your email.', attrs: { required: true, maxlength: '128', autocomplete: 'current-password' } });
    var f2 = h('form', { class: 'form', novalidate: true },
      formMessage(), em.el, ecp.el,
      h('div', { class: 'form-actions' }, h('button', { type: 'submit', class: 'button' }, 'Change email')));
    f2.addEventListener('submit', function (e) {
      e.preventDefault();
      if (!validateForm(f2)) return;
      setBusy(f2, true, 'Saving…');
      api(API + '/users/me', { method: 'PATCH', body: { email: em.input.value.trim(), currentPassword: ecp.input.value } }).then(function (nu) {
        auth.user = nu;
        refreshSummary();
        setBusy(f2, false);
        f2.reset();
        setFormMessage(f2, 'Email changed to ' + nu.email + '.', true);
      }).catch(function (err) { setBusy(f2, false); showApiError(f2, err); });
    });
    sec.appendChild(h('section', { class: 'panel', 'aria-labelledby': 'acct-email' }, h('h2', { id: 'acct-email' }, 'Email'), f2));

    // Password
    var cp = field({ label: 'Current password', name: 'currentPassword', type: 'password', attrs: { required: true, maxlength: '128', autocomplete: 'current-password' } });
    var np = field({ label: 'New password', name: 'newPassword', type: 'password', hint: 'At least 8 characters; longer and less guessable is better.', attrs: { required: true, minlength: '8', maxlength: '128', autocomplete: 'new-password' } });
    var np2 = field({ label: 'Repeat new password', name: 'confirmPassword', type: 'password', attrs: { required: true, maxlength: '128', autocomplete: 'new-password' } });
    var f3 = h('form', { class: 'form', novalidate: true },
      formMessage(), cp.el, np.el, np2.el,
      h('div', { class: 'form-actions' }, h('button', { type: 'submit', class: 'button' }, 'Change password')));
    f3.addEventListener('submit', function (e) {
      e.preventDefault();
      if (!validateForm(f3, function () {
        return np.input.value && np2.input.value && np.input.value !== np2.input.value ? [['confirmPassword', 'The two new passwords differ.']] : [];
      })) return;
      setBusy(f3, true, 'Saving…');
      api(API + '/users/me/password', { method: 'POST', body: { currentPassword: cp.input.value, newPassword: np.input.value } }).then(function () {
        setBusy(f3, false);
        f3.reset();
        setFormMessage(f3, 'Password changed. Your other sessions were signed out.', true);
      }).catch(function (err) { setBusy(f3, false); showApiError(f3, err); });
    });
    sec.appendChild(h('section', { class: 'panel', 'aria-labelledby': 'acct-password' }, h('h2', { id: 'acct-password' }, 'Password'), f3));

    // Sessions
    var sessMsg = h('p', { class: 'form-message', role: 'status', 'aria-live': 'polite', hidden: true });
    var others = h('button', { type: 'button', class: 'button secondary' }, 'Sign out of other sessions');
    others.addEventListener('click', function () {
      others.disabled = true;
      sessMsg.hidden = true;
      api(API + '/users/me/sessions', { method: 'DELETE' }).then(function () {
        others.disabled = false;
        sessMsg.textContent = 'Your other sessions are signed out. This one goes on.';
        sessMsg.classList.add('ok');
        sessMsg.hidden = false;
      }).catch(function (err) {
        others.disabled = false;
        sessMsg.textContent = err.status === 404 || err.status === 405 ?
          'This server can’t sign out other sessions yet. Changing your password signs them out.' : err.message;
        sessMsg.classList.remove('ok');
        sessMsg.hidden = false;
      });
    });
    var signout = h('button', { type: 'button', class: 'button', onclick: function () { signOut(); } }, 'Sign out');
    sec.appendChild(h('section', { class: 'panel', 'aria-labelledby': 'acct-sessions' },
      h('h2', { id: 'acct-sessions' }, 'Sessions'),
      h('p', {}, 'Signed in as ', h('strong', {}, u.username), '.'),
      h('div', { class: 'form-actions' }, signout, others),
      sessMsg));
  }

  // ---------------------------------------------------------------------------------------
  // Webhooks

  var EVENTS = [
    ['video.uploaded', 'Uploaded: processing starts'],
    ['video.ready', 'Ready: the video can be played'],
    ['video.failed', 'Failed: processing gave up'],
    ['video.deleted', 'Deleted: the video is gone']
  ];

  function pageWebhooks(c) {
    var sec = page('Webhooks', 'Stremora calls your URL when something happens to your videos. Each delivery is signed with the webhook’s secret.');
    c.main.appendChild(sec);

    var uf = field({ label: 'Endpoint URL', name: 'url', type: 'url', hint: 'An http:// or https:// address that accepts POST requests.', attrs: { required: true, maxlength: '2048', placeholder: 'https://example.com/hooks/stremora', autocomplete: 'url' } });
    var evErrId = uid('ev-err');
    var fs = h('fieldset', { class: 'field events', dataset: { field: 'events' }, 'aria-describedby': evErrId },
      h('legend', {}, 'Events'),
      EVENTS.map(function (ev) {
        var id = uid('ev');
        return h('div', { class: 'check' },
          h('input', { type: 'checkbox', id: id, name: 'events', value: ev[0], checked: true }),
          h('label', { for: id }, h('code', {}, ev[0]), ' — ' + ev[1].split(': ')[1]));
      }),
      h('p', { class: 'field-error', id: evErrId, hidden: true }));
    var form = h('form', { class: 'form', novalidate: true },
      formMessage(), uf.el, fs,
      h('div', { class: 'form-actions' }, h('button', { type: 'submit', class: 'button' }, 'Add webhook')));
    var secretBox = h('div', { class: 'secret-holder' });
    var listEl = h('ul', { class: 'webhooks' });
    var status = h('div', { role: 'status' }, loadingLine('Loading webhooks…'));

    function checkedEvents() {
      return Array.prototype.filter.call(form.querySelectorAll('input[name="events"]'), function (i) { return i.checked; })
        .map(function (i) { return i.value; });
    }

    form.addEventListener('submit', function (e) {
      e.preventDefault();
      if (!validateForm(form, function () {
        return checkedEvents().length ? [] : [['events', 'Choose at least one event.']];
      })) return;
      setBusy(form, true, 'Adding…');
      api(API + '/webhooks', { method: 'POST', body: { url: uf.input.value.trim(), events: checkedEvents() } }).then(function (wh) {
        setBusy(form, false);
        uf.input.value = '';
        showSecret(wh);
        clear(status);
        listEl.insertBefore(webhookRow(c, wh, onRemoved), listEl.firstChild);
      }).catch(function (err) { setBusy(form, false); showApiError(form, err); });
    });

    function showSecret(wh) {
      var code = h('code', { class: 'secret' }, wh.secret);
      var copyMsg = h('span', { class: 'copy-msg', 'aria-live': 'polite' });
      var box = h('div', { class: 'notice ok secret-box', role: 'status', tabindex: '-1' },
        h('h2', {}, 'Webhook added'),
        h('p', {}, 'Its signing secret is below. It is shown only this once: keep it now.'),
        h('p', {}, code),
        h('div', { class: 'form-actions' },
          h('button', {
            type: 'button', class: 'button secondary', onclick: function () {
              if (navigator.clipboard && navigator.clipboard.writeText) {
                navigator.clipboard.writeText(wh.secret).then(function () { copyMsg.textContent = 'Copied.'; },
                  function () { copyMsg.textContent = 'Copy failed; select the text instead.'; });
              } else {
                var range = document.createRange();
                range.selectNodeContents(code);
                var sel = window.getSelection();
                sel.removeAllRanges();
                sel.addRange(range);
                copyMsg.textContent = 'Selected; press Ctrl+C to copy.';
              }
            }
          }, 'Copy secret'),
          h('button', { type: 'button', class: 'button secondary', onclick: function () { clear(secretBox); uf.input.focus(); } }, 'I have saved it'),
          copyMsg));
      clear(secretBox).appendChild(box);
      box.focus();
    }

    function onRemoved() {
      if (!listEl.children.length) showEmpty();
    }
    function showEmpty() {
      clear(status).appendChild(h('p', { class: 'empty' }, 'No webhooks yet.'));
    }

    sec.appendChild(h('section', { class: 'panel', 'aria-labelledby': 'wh-add' }, h('h2', { id: 'wh-add' }, 'Add a webhook'), form));
    sec.appendChild(secretBox);
    sec.appendChild(h('section', { class: 'panel', 'aria-labelledby': 'wh-list' }, h('h2', { id: 'wh-list' }, 'Your webhooks'), status, listEl));

    function load() {
      api(API + '/webhooks').then(function (list) {
        if (!c.alive) return;
        clear(status);
        clear(listEl);
        list.items.forEach(function (wh) { listEl.appendChild(webhookRow(c, wh, onRemoved)); });
        if (!list.items.length) showEmpty();
      }).catch(function (err) {
        if (!c.alive) return;
        clear(status).appendChild(errorBox(err.message, load));
      });
    }
    load();
  }

  function webhookRow(c, wh, onRemoved) {
    var panelId = uid('deliv');
    var toggle = h('button', { type: 'button', class: 'button secondary', 'aria-expanded': 'false', 'aria-controls': panelId }, 'Show deliveries');
    var del = h('button', { type: 'button', class: 'button secondary danger-text' }, 'Delete');
    var note = h('p', { class: 'row-note', role: 'status' });
    var panel = h('div', { class: 'deliveries', id: panelId, hidden: true });
    var li = h('li', { class: 'webhook', dataset: { webhookId: wh.id } },
      h('p', { class: 'wh-url' }, wh.url),
      h('p', { class: 'meta' }, wh.events.join(', '), ' · added ' + fmtDate(wh.createdAt)),
      h('div', { class: 'form-actions' }, toggle, del),
      note, panel);

    function loadDeliveries(cursor, tbody, more) {
      var wrap = tbody.closest('.table-wrap');
      clear(more).appendChild(loadingLine('Loading deliveries…'));
      api(API + '/webhooks/' + wh.id + '/deliveries' + qs({ limit: 20, cursor: cursor })).then(function (list) {
        if (!c.alive) return;
        clear(more);
        if (!list.items.length && !cursor) {
          more.appendChild(h('p', { class: 'empty' }, 'No deliveries yet. They appear when one of your videos changes.'));
        }
        wrap.hidden = !tbody.children.length && !list.items.length;
        list.items.forEach(function (d) {
          tbody.appendChild(h('tr', {},
            h('td', {}, fmtDateTime(d.at)),
            h('td', {}, h('code', {}, d.event)),
            h('td', {}, String(d.attempt)),
            h('td', { class: d.statusCode && d.statusCode < 300 ? 'ok-text' : 'error-text' },
              d.statusCode ? String(d.statusCode) : 'no answer'),
            h('td', {}, d.durationMs + ' ms'),
            h('td', {}, d.error || '')));
        });
        if (list.nextCursor) {
          more.appendChild(h('button', {
            type: 'button', class: 'button secondary', onclick: function () { loadDeliveries(list.nextCursor, tbody, more); }
          }, 'Load more deliveries'));
        }
      }).catch(function (err) {
        if (!c.alive) return;
        clear(more).appendChild(errorBox(err.message, function () { loadDeliveries(cursor, tbody, more); }));
      });
    }

    toggle.addEventListener('click', function () {
      var open = panel.hidden;
      panel.hidden = !open;
      toggle.setAttribute('aria-expanded', open ? 'true' : 'false');
      toggle.textContent = open ? 'Hide deliveries' : 'Show deliveries';
      if (!open) return;
      var tbody = h('tbody');
      var more = h('div');
      clear(panel).appendChild(h('div', { class: 'table-wrap', hidden: true },
        h('table', {},
          h('caption', {}, 'Delivery attempts, newest first'),
          h('thead', {}, h('tr', {},
            h('th', { scope: 'col' }, 'When'), h('th', { scope: 'col' }, 'Event'), h('th', { scope: 'col' }, 'Attempt'),
            h('th', { scope: 'col' }, 'Status'), h('th', { scope: 'col' }, 'Time'), h('th', { scope: 'col' }, 'Error'))),
          tbody)));
      panel.appendChild(more);
      panel.appendChild(h('button', {
        type: 'button', class: 'button secondary', onclick: function () { clear(tbody); loadDeliveries('', tbody, more); }
      }, 'Refresh'));
      loadDeliveries('', tbody, more);
    });

    del.addEventListener('click', function () {
      confirmDialog({
        title: 'Delete this webhook?',
        body: 'Deliveries to ' + wh.url + ' stop, and its delivery log goes too.',
        confirm: 'Delete webhook',
        danger: true
      }).then(function (yes) {
        if (!yes) return;
        del.disabled = true;
        api(API + '/webhooks/' + wh.id, { method: 'DELETE' }).then(function () {
          li.remove();
          announce('Webhook deleted.');
          onRemoved();
          var h1 = $('#main h1');
          if (h1) h1.focus();
        }).catch(function (err) {
          del.disabled = false;
          note.textContent = err.message;
          note.classList.add('error-text');
        });
      });
    });
    return li;
  }

  // ---------------------------------------------------------------------------------------
  // People: avatars, channel links, counts, icons

  function fmtCount(n) {
    n = Number(n) || 0;
    try {
      return new Intl.NumberFormat(undefined, { notation: 'compact', maximumFractionDigits: 1 }).format(n);
    } catch (e) { return String(n); }
  }

  function counted(n, one, many) { return fmtCount(n) + ' ' + (Number(n) === 1 ? one : many); }

  function displayName(card) {
    if (!card) return 'Deleted user';
    return card.displayName || card.username || 'Deleted user';
  }

  function initials(card) {
    var words = displayName(card).trim().split(/\s+/).filter(Boolean);
    if (!words.length) return '?';
    var first = Array.from(words[0]);
    var s = words.length > 1 ? first[0] + Array.from(words[words.length - 1])[0] : first.slice(0, 2).join('');
    return s.toUpperCase();
  }

  // avatar(card, 'sm' | 'md' | 'lg'): the picture, or the initials on a colour the id picks.
  function avatar(card, size) {
    var big = size === 'lg';
    var url = card ? (big ? card.avatarUrl || card.avatarSmallUrl : card.avatarSmallUrl || card.avatarUrl) : null;
    var cls = 'avatar avatar-' + size;
    if (url) return h('img', { class: cls, src: url, alt: '', decoding: 'async' });
    var key = (card && (card.id || card.username)) || '', hash = 0;
    for (var i = 0; i < key.length; i++) hash = (hash * 31 + key.charCodeAt(i)) >>> 0;
    return h('span', { class: cls + ' initials tone-' + (hash % 6), 'aria-hidden': 'true' }, initials(card));
  }

  function channelHref(card) { return '/c/' + encodeURIComponent(card.username); }

  // A link to someone's channel (plain text for a deleted user).
  function personLink(card, cls) {
    if (!card || !card.username) return h('span', { class: (cls || '') + ' deleted-user' }, displayName(card));
    return h('a', { href: channelHref(card), class: cls || null }, displayName(card));
  }

  function isMe(card) { return !!(auth.user && card && card.id === auth.user.id); }

  function goSignIn() {
    navigate('/signin?next=' + encodeURIComponent(location.pathname + location.search));
  }

  var ICONS = {
    like: 'M1 21h4V9H1v12zm22-11c0-1.1-.9-2-2-2h-6.31l.95-4.57.03-.32c0-.41-.17-.79-.44-1.06L14.17 1 7.59 7.59C7.22 7.95 7 8.45 7 9v10c0 1.1.9 2 2 2h9c.83 0 1.54-.5 1.84-1.22l3.02-7.05c.09-.23.14-.47.14-.73v-2z',
    dislike: 'M15 3H6c-.83 0-1.54.5-1.84 1.22l-3.02 7.05c-.09.23-.14.47-.14.73v2c0 1.1.9 2 2 2h6.31l-.95 4.57-.03.32c0 .41.17.79.44 1.06L9.83 23l6.59-6.59c.36-.36.58-.86.58-1.41V5c0-1.1-.9-2-2-2zm4 0v12h4V3h-4z',
    save: 'M14 10H2v2h12v-2zm0-4H2v2h12V6zm4 8v-4h-2v4h-4v2h4v4h2v-4h4v-2h-4zM2 16h8v-2H2v2z'
  };

  function icon(name) {
    var ns = 'http://www.w3.org/2000/svg';
    var svg = document.createElementNS(ns, 'svg');
    svg.setAttribute('viewBox', '0 0 24 24');
    svg.setAttribute('class', 'icon');
    svg.setAttribute('aria-hidden', 'true');
    svg.setAttribute('focusable', 'false');
    var p = document.createElementNS(ns, 'path');
    p.setAttribute('d', ICONS[name]);
    svg.appendChild(p);
    return svg;
  }

  // A small status line under something that failed in place.
  function rowNote() { return h('p', { class: 'row-note', role: 'status', 'aria-live': 'polite' }); }

  function setNote(note, text, isError) {
    note.textContent = text || '';
    note.classList.toggle('error-text', !!isError);
  }

  // pagedList(c, {url(cursor), item(x), list, empty, moreLabel, loadingText, onPage(page, first),
  // onFail(first)}):
  // loads a keyset-paged API list into `list` with a "Show more" button under it.
  function pagedList(c, opts) {
    var status = h('div', { class: 'list-status', role: 'status' });
    var more = h('div', { class: 'load-more' });
    var gen = 0;
    function showEmptyIfNone() {
      clear(status);
      if (!opts.list.children.length && opts.empty) status.appendChild(h('p', { class: 'empty' }, opts.empty));
    }
    function load(cursor) {
      var my = gen;
      clear(more).appendChild(loadingLine(opts.loadingText || 'Loading…'));
      api(opts.url(cursor)).then(function (pg) {
        if (!c.alive || my !== gen) return;
        clear(more);
        pg.items.forEach(function (x) {
          var el = opts.item(x);
          if (el) opts.list.appendChild(el);
        });
        if (opts.onPage) opts.onPage(pg, !cursor);
        showEmptyIfNone();
        if (pg.nextCursor) {
          more.appendChild(h('button', {
            type: 'button', class: 'button secondary', onclick: function () { load(pg.nextCursor); }
          }, opts.moreLabel || 'Show more'));
        }
      }).catch(function (err) {
        if (!c.alive || my !== gen) return;
        clear(more).appendChild(errorBox(err.message, function () { load(cursor); }));
        if (opts.onFail) opts.onFail(!cursor);
      });
    }
    return {
      status: status,
      more: more,
      reload: function () { gen += 1; clear(opts.list); clear(status); load(''); },
      changed: showEmptyIfNone
    };
  }

  // The subscribe button of a channel ({username, displayName, isSubscribed, subscriberCount}).
  function subscribeButton(ch, onCount) {
    var btn = h('button', { type: 'button', class: 'button subscribe' });
    var note = h('span', { class: 'sub-note error-text', role: 'status' });
    function paint() {
      var on = !!ch.isSubscribed;
      btn.textContent = on ? 'Unsubscribe' : 'Subscribe';
      btn.classList.toggle('secondary', on);
      btn.dataset.subscribed = on ? 'true' : 'false';
    }
    btn.addEventListener('click', function () {
      if (!auth.user) { goSignIn(); return; }
      var on = !!ch.isSubscribed;
      btn.disabled = true;
      note.textContent = '';
      api(API + '/channels/' + encodeURIComponent(ch.username) + '/subscription', { method: on ? 'DELETE' : 'PUT' }).then(function (res) {
        btn.disabled = false;
        ch.isSubscribed = !on;
        if (res && typeof res.subscriberCount === 'number') ch.subscriberCount = res.subscriberCount;
        else if (on) ch.subscriberCount = Math.max(0, (ch.subscriberCount || 0) - 1);
        paint();
        if (onCount) onCount(ch.subscriberCount);
        announce((on ? 'Unsubscribed from ' : 'Subscribed to ') + displayName(ch) + '.');
      }).catch(function (err) {
        btn.disabled = false;
        note.textContent = err.message;
      });
    });
    paint();
    return h('span', { class: 'subscribe-wrap' }, btn, note);
  }

  // Like button of a comment or post: PUT/DELETE `path` + '/like'.
  function likeButton(path, obj, what) {
    var count = h('span', { class: 'count' });
    var btn = h('button', { type: 'button', class: 'chip like', 'aria-label': 'Like this ' + what }, icon('like'), count);
    var note = h('span', { class: 'sub-note error-text', role: 'status' });
    function paint() {
      btn.setAttribute('aria-pressed', obj.myLike ? 'true' : 'false');
      count.textContent = fmtCount(obj.likeCount || 0);
    }
    btn.addEventListener('click', function () {
      if (!auth.user) { goSignIn(); return; }
      var on = !!obj.myLike;
      btn.disabled = true;
      note.textContent = '';
      api(path + '/like', { method: on ? 'DELETE' : 'PUT' }).then(function (res) {
        btn.disabled = false;
        obj.myLike = !on;
        if (res && typeof res.likeCount === 'number') obj.likeCount = res.likeCount;
        else obj.likeCount = Math.max(0, (obj.likeCount || 0) + (on ? -1 : 1));
        paint();
      }).catch(function (err) {
        btn.disabled = false;
        note.textContent = err.message;
      });
    });
    paint();
    return h('span', { class: 'like-wrap' }, btn, note);
  }

  // A small form with one textarea: {label, name, value, max, submit, onSubmit(text) -> Promise,
  // onCancel}. Errors from onSubmit's ApiError show in place.
  function textForm(opts) {
    var f = field({
      label: opts.label, name: opts.name || 'body', type: 'textarea', value: opts.value || '',
      attrs: { required: true, maxlength: String(opts.max), rows: String(opts.rows || 3), placeholder: opts.placeholder || null }
    });
    var form = h('form', { class: 'form text-form', novalidate: true },
      formMessage(), f.el,
      h('div', { class: 'form-actions' },
        h('button', { type: 'submit', class: 'button' }, opts.submit),
        opts.onCancel ? h('button', { type: 'button', class: 'button secondary', onclick: opts.onCancel }, 'Cancel') : null));
    if (opts.hideLabel) f.el.querySelector('label').classList.add('sr-only');
    form.addEventListener('submit', function (e) {
      e.preventDefault();
      if (!validateForm(form, function () {
        return f.input.value.trim() ? [] : [[opts.name || 'body', 'Write something first.']];
      })) return;
      setBusy(form, true, opts.busy || 'Sending…');
      opts.onSubmit(f.input.value.trim()).then(function () {
        setBusy(form, false);
        if (!opts.keep) f.input.value = '';
      }, function (err) {
        setBusy(form, false);
        showApiError(form, err);
      });
    });
    return { form: form, input: f.input };
  }

  // ---------------------------------------------------------------------------------------
  // Comments, for a video or a post

  // t: {kind: 'video' | 'post', id, ownerId (the video's or post's owner), enabled, count}
  function commentsSection(c, t) {
    var base = API + (t.kind === 'video' ? '/videos/' : '/posts/') + t.id + '/comments';
    var headId = uid('cm');
    var count = typeof t.count === 'number' ? t.count : null;
    var countEl = h('span', { class: 'comment-count' });
    function paintCount() { countEl.textContent = count === null ? '' : ' · ' + fmtCount(count); }
    paintCount();
    var sec = h('section', { class: 'comments', 'aria-labelledby': headId, dataset: { kind: t.kind } },
      h(t.kind === 'video' ? 'h2' : 'h3', { id: headId }, 'Comments', countEl));
    if (t.enabled === false) {
      sec.appendChild(h('p', { class: 'notice comments-off' }, 'Comments are turned off for this video.'));
      return sec;
    }
    var sort = 'newest';
    var list = h('ul', { class: 'comment-list' });
    var t2 = {
      kind: t.kind, base: base, ownerId: t.ownerId,
      bump: function (d) { if (count !== null) { count = Math.max(0, count + d); paintCount(); } }
    };
    var pl = pagedList(c, {
      list: list,
      url: function (cursor) { return base + qs({ sort: sort, limit: 20, cursor: cursor }); },
      item: function (cm) { return commentItem(c, t2, cm, null); },
      empty: 'No comments yet.',
      moreLabel: 'More comments',
      loadingText: 'Loading comments…'
    });

    var top = h('div', { class: 'comments-top' });
    if (t.kind === 'video') {
      var sortId = uid('csort');
      var sel = h('select', { id: sortId, name: 'sort' },
        h('option', { value: 'newest' }, 'Newest first'), h('option', { value: 'top' }, 'Top comments'));
      sel.addEventListener('change', function () { sort = sel.value; pl.reload(); });
      top.appendChild(h('div', { class: 'inline-field' }, h('label', { for: sortId }, 'Sort comments'), sel));
    }
    sec.appendChild(top);
    if (auth.user) {
      var tf = textForm({
        label: 'Add a comment', max: 10000, submit: 'Comment', busy: 'Posting…', rows: 2,
        onSubmit: function (text) {
          return api(base, { method: 'POST', body: { body: text } }).then(function (cm) {
            list.insertBefore(commentItem(c, t2, cm, null), list.firstChild);
            t2.bump(1);
            pl.changed();
            announce('Comment posted.');
          });
        }
      });
      sec.appendChild(tf.form);
    } else {
      sec.appendChild(h('p', { class: 'sign-in-hint' },
        h('a', { href: '/signin?next=' + encodeURIComponent(location.pathname + location.search) }, 'Sign in'), ' to comment.'));
    }
    sec.appendChild(pl.status);
    sec.appendChild(list);
    sec.appendChild(pl.more);
    pl.reload();
    return sec;
  }

  function commentItem(c, t, cm, parent) {
    var li = h('li', { class: 'comment' + (parent ? ' reply' : ''), dataset: { commentId: cm.id } });
    var note = rowNote();
    var editor = h('div', { class: 'comment-editor' });
    var replies = null;

    function canDelete() {
      if (!auth.user || cm.deleted) return false;
      return isMe(cm.author) || auth.user.id === t.ownerId || auth.user.role === 'admin';
    }

    function paint() {
      clear(li);
      li.classList.toggle('deleted', !!cm.deleted);
      var head = h('p', { class: 'comment-head' },
        cm.deleted ? h('span', { class: 'deleted-user' }, 'Deleted comment') : personLink(cm.author, 'comment-author'),
        h('span', { class: 'meta' }, ' · ', h('time', { datetime: cm.createdAt, title: fmtDateTime(cm.createdAt) }, fmtDate(cm.createdAt)),
          cm.editedAt && !cm.deleted ? ' · edited' : ''));
      var body = cm.deleted ? h('p', { class: 'comment-body deleted' }, 'This comment was deleted.') :
        h('p', { class: 'comment-body' }, cm.body);
      var actions = h('div', { class: 'comment-actions' });
      if (!cm.deleted) {
        actions.appendChild(likeButton(API + '/comments/' + cm.id, cm, 'comment'));
        if (!parent) actions.appendChild(h('button', { type: 'button', class: 'chip', onclick: openReply }, 'Reply'));
        if (isMe(cm.author)) actions.appendChild(h('button', { type: 'button', class: 'chip', onclick: openEdit }, 'Edit'));
        if (canDelete()) actions.appendChild(h('button', { type: 'button', class: 'chip danger-text', onclick: remove }, 'Delete'));
      }
      li.appendChild(cm.deleted ? avatar(null, 'sm') : avatar(cm.author, 'sm'));
      var main = h('div', { class: 'comment-main' }, head, body, actions, note, editor);
      li.appendChild(main);
      if (!parent) {
        if (!replies) replies = repliesBlock();
        replies.paint();
        main.appendChild(replies.el);
      }
    }

    // The replies under a top-level comment: hidden until asked for, then paged.
    function repliesBlock() {
      var list = h('ul', { class: 'comment-list replies' });
      var toggle = h('button', { type: 'button', class: 'link-button replies-toggle', 'aria-expanded': 'false' });
      var box = h('div', { class: 'replies-box', hidden: true });
      var loaded = false;
      var pl = pagedList(c, {
        list: list,
        url: function (cursor) { return API + '/comments/' + cm.id + '/replies' + qs({ limit: 20, cursor: cursor }); },
        item: function (r) { return commentItem(c, t, r, r2); },
        moreLabel: 'More replies',
        loadingText: 'Loading replies…'
      });
      box.appendChild(list);
      box.appendChild(pl.status);
      box.appendChild(pl.more);
      var r2 = {
        el: h('div', { class: 'replies-wrap' }, toggle, box),
        paint: function () {
          var n = cm.replyCount || 0;
          toggle.hidden = !n;
          toggle.textContent = (box.hidden ? 'Show ' : 'Hide ') + (n === 1 ? '1 reply' : fmtCount(n) + ' replies');
          toggle.setAttribute('aria-expanded', box.hidden ? 'false' : 'true');
        },
        open: function () {
          box.hidden = false;
          if (!loaded) { loaded = true; pl.reload(); }
          r2.paint();
        },
        loaded: function () { return loaded; },
        add: function (r) { list.appendChild(commentItem(c, t, r, r2)); },
        removed: function () {
          cm.replyCount = Math.max(0, (cm.replyCount || 0) - 1);
          r2.paint();
          // A deleted comment whose last reply goes is gone for good.
          if (cm.deleted && !cm.replyCount) li.remove();
        }
      };
      toggle.addEventListener('click', function () {
        if (box.hidden) r2.open();
        else { box.hidden = true; r2.paint(); }
      });
      return r2;
    }

    function openReply() {
      if (!auth.user) { goSignIn(); return; }
      if (editor.firstChild) { clear(editor); return; }
      var tf = textForm({
        label: 'Reply to ' + displayName(cm.author), max: 10000, submit: 'Reply', busy: 'Posting…', rows: 2,
        onCancel: function () { clear(editor); },
        onSubmit: function (text) {
          return api(t.base, { method: 'POST', body: { body: text, parentId: cm.id } }).then(function (r) {
            clear(editor);
            cm.replyCount = (cm.replyCount || 0) + 1;
            if (replies.loaded()) replies.add(r);
            replies.open();
            t.bump(1);
            announce('Reply posted.');
          });
        }
      });
      editor.appendChild(tf.form);
      tf.input.focus();
    }

    function openEdit() {
      if (editor.firstChild) { clear(editor); return; }
      var tf = textForm({
        label: 'Edit your comment', max: 10000, value: cm.body, submit: 'Save', busy: 'Saving…', keep: true,
        onCancel: function () { clear(editor); },
        onSubmit: function (text) {
          return api(API + '/comments/' + cm.id, { method: 'PATCH', body: { body: text } }).then(function (ncm) {
            var keepReplies = cm.replyCount;
            Object.assign(cm, ncm);
            if (typeof ncm.replyCount !== 'number') cm.replyCount = keepReplies;
            clear(editor);
            paint();
            setNote(note, 'Comment saved.');
          });
        }
      });
      editor.appendChild(tf.form);
      tf.input.focus();
    }

    function remove() {
      confirmDialog({
        title: 'Delete this comment?',
        body: cm.replyCount ? 'Its text goes; its replies stay.' : 'This cannot be undone.',
        confirm: 'Delete comment',
        danger: true
      }).then(function (yes) {
        if (!yes) return;
        setNote(note, 'Deleting…');
        api(API + '/comments/' + cm.id, { method: 'DELETE' }).then(function () {
          setNote(note, '');
          t.bump(-1);
          announce('Comment deleted.');
          if (!parent && cm.replyCount) {
            cm.deleted = true;
            cm.body = null;
            cm.author = null;
            paint();
          } else {
            li.remove();
            if (parent) parent.removed();
          }
        }).catch(function (err) { setNote(note, err.message, true); });
      });
    }

    paint();
    return li;
  }

  // ---------------------------------------------------------------------------------------
  // Watch page: owner, rating, save, playlist mode

  // The owner's card with subscriber count and subscribe button (the count comes from the
  // channel, fetched after the card shows).
  function ownerRow(c, card) {
    var subs = h('span', { class: 'meta sub-count' });
    var action = h('div', { class: 'owner-action' });
    var row = h('div', { class: 'owner-row' },
      card && card.username ? h('a', { href: channelHref(card), class: 'owner-avatar', tabindex: '-1', 'aria-hidden': 'true' }, avatar(card, 'md')) : avatar(card, 'md'),
      h('div', { class: 'owner-id' }, personLink(card, 'owner-name'), subs),
      action);
    if (!card || !card.username) return row;
    api(API + '/channels/' + encodeURIComponent(card.username)).then(function (ch) {
      if (!c.alive) return;
      subs.textContent = counted(ch.subscriberCount, 'subscriber', 'subscribers');
      if (!isMe(card)) {
        action.appendChild(subscribeButton(ch, function (n) { subs.textContent = counted(n, 'subscriber', 'subscribers'); }));
      }
    }).catch(function () { /* the card stays without a count */ });
    return row;
  }

  function ratingBar(v) {
    var st = { my: v.myRating || null, like: v.likeCount || 0, dislike: v.dislikeCount || 0 };
    var likeCount = h('span', { class: 'count' }), dislikeCount = h('span', { class: 'count' });
    var likeBtn = h('button', { type: 'button', class: 'chip rate like', 'aria-label': 'Like' }, icon('like'), likeCount);
    var dislikeBtn = h('button', { type: 'button', class: 'chip rate dislike', 'aria-label': 'Dislike' }, icon('dislike'), dislikeCount);
    var note = h('span', { class: 'sub-note error-text', role: 'status' });
    function paint() {
      likeBtn.setAttribute('aria-pressed', st.my === 'like' ? 'true' : 'false');
      dislikeBtn.setAttribute('aria-pressed', st.my === 'dislike' ? 'true' : 'false');
      likeCount.textContent = fmtCount(st.like);
      dislikeCount.textContent = fmtCount(st.dislike);
    }
    function rate(kind) {
      if (!auth.user) { goSignIn(); return; }
      var want = st.my === kind ? null : kind;
      likeBtn.disabled = dislikeBtn.disabled = true;
      note.textContent = '';
      var req = want ? api(API + '/videos/' + v.id + '/rating', { method: 'PUT', body: { rating: want } }) :
        api(API + '/videos/' + v.id + '/rating', { method: 'DELETE' });
      req.then(function (res) {
        likeBtn.disabled = dislikeBtn.disabled = false;
        if (res && typeof res.likeCount === 'number') {
          st.like = res.likeCount;
          st.dislike = res.dislikeCount;
        } else if (st.my) {
          st[st.my] = Math.max(0, st[st.my] - 1);
        }
        st.my = want;
        paint();
        announce(want === 'like' ? 'You liked this video.' : want === 'dislike' ? 'You disliked this video.' : 'Rating removed.');
      }).catch(function (err) {
        likeBtn.disabled = dislikeBtn.disabled = false;
        note.textContent = err.message;
      });
    }
    likeBtn.addEventListener('click', function () { rate('like'); });
    dislikeBtn.addEventListener('click', function () { rate('dislike'); });
    paint();
    return h('div', { class: 'rating', role: 'group', 'aria-label': 'Rate this video' }, likeBtn, dislikeBtn, note);
  }

  function playlistTitle(p) { return p.kind === 'watch_later' ? 'Watch later' : p.title; }

  // "Save to…": Watch later, my playlists, or a new one made here.
  function saveDialog(v, opener) {
    var titleId = uid('save-title');
    var list = h('ul', { class: 'save-list' }, h('li', {}, loadingLine('Loading your playlists…')));
    var tf = field({ label: 'New playlist', name: 'title', attrs: { required: true, maxlength: '200', placeholder: 'Title' } });
    var vf = field({ label: 'Visibility', name: 'visibility', type: 'select', value: 'private',
      options: [['private', 'Private'], ['unlisted', 'Unlisted'], ['public', 'Public']] });
    var form = h('form', { class: 'form new-playlist', novalidate: true },
      formMessage(), tf.el, vf.el,
      h('div', { class: 'form-actions' }, h('button', { type: 'submit', class: 'button' }, 'Create and save')));
    var close = h('button', { type: 'button', class: 'button secondary' }, 'Done');
    var d = h('dialog', { class: 'dialog save-dialog', 'aria-labelledby': titleId },
      h('h2', { id: titleId }, 'Save to…'), list, form, h('div', { class: 'dialog-actions' }, close));

    function row(p, saved) {
      var state = h('span', { class: 'save-state', role: 'status' });
      var btn = h('button', { type: 'button', class: 'button secondary save-to', dataset: { playlistId: p.id } }, playlistTitle(p));
      function done(text, ok) {
        state.textContent = text;
        state.classList.toggle('ok-text', !!ok);
        state.classList.toggle('error-text', !ok);
      }
      btn.addEventListener('click', function () {
        btn.disabled = true;
        done('Saving…', true);
        api(API + '/playlists/' + p.id + '/items', { method: 'POST', body: { videoId: v.id } }).then(function () {
          btn.disabled = false;
          done('Saved', true);
          announce('Saved to ' + playlistTitle(p) + '.');
        }).catch(function (err) {
          btn.disabled = false;
          if (err.code === 'already_in_playlist') done('Already there', true);
          else done(err.message, false);
        });
      });
      if (saved) done('Saved', true);
      return h('li', {}, btn, state);
    }

    api(API + '/users/me/playlists' + qs({ limit: 100 })).then(function (pg) {
      clear(list);
      var items = pg.items.slice().sort(function (a, b) {
        return (a.kind === 'watch_later' ? 0 : 1) - (b.kind === 'watch_later' ? 0 : 1);
      });
      items.forEach(function (p) { list.appendChild(row(p)); });
      if (!items.length) list.appendChild(h('li', { class: 'empty' }, 'No playlists yet: make one below.'));
    }).catch(function (err) { clear(list).appendChild(h('li', {}, errorBox(err.message))); });

    form.addEventListener('submit', function (e) {
      e.preventDefault();
      if (!validateForm(form, function () { return tf.input.value.trim() ? [] : [['title', 'Give the playlist a title.']]; })) return;
      setBusy(form, true, 'Creating…');
      var made;
      api(API + '/playlists', { method: 'POST', body: { title: tf.input.value.trim(), visibility: vf.input.value } }).then(function (p) {
        made = p;
        return api(API + '/playlists/' + p.id + '/items', { method: 'POST', body: { videoId: v.id } });
      }).then(function () {
        setBusy(form, false);
        var empty = list.querySelector('.empty');
        if (empty) empty.remove();
        list.appendChild(row(made, true));
        tf.input.value = '';
        setFormMessage(form, 'Saved to the new playlist “' + made.title + '”.', true);
      }).catch(function (err) {
        setBusy(form, false);
        showApiError(form, err);
        if (made) {
          list.appendChild(row(made));
        }
      });
    });
    close.addEventListener('click', function () { d.close(); });
    d.addEventListener('close', function () {
      d.remove();
      if (opener && opener.isConnected) opener.focus();
    });
    document.body.appendChild(d);
    d.showModal();
    close.focus();
  }

  // Loads a playlist's items (page after page, up to all of them) for play-in-order.
  function loadAllItems(c, listId, onDone, onError) {
    var all = [], hidden = 0, pages = 0;
    function step(cursor) {
      api(API + '/playlists/' + listId + '/items' + qs({ limit: 100, cursor: cursor })).then(function (pg) {
        if (!c.alive) return;
        all = all.concat(pg.items);
        hidden += pg.hiddenCount || 0;
        pages += 1;
        if (pg.nextCursor && pages < 50) step(pg.nextCursor);
        else onDone(all, hidden);
      }).catch(function (err) { if (c.alive) onError(err); });
    }
    step('');
  }

  // The playlist beside the player: where we are, and the next video when this one ends.
  function playlistPanel(c, listId, videoId) {
    var head = h('p', { class: 'pl-head' }, loadingLine('Loading playlist…'));
    var ol = h('ol', { class: 'pl-queue' });
    var el = h('aside', { class: 'pl-panel', 'aria-label': 'Playlist' }, head, ol);
    var nextId = null;
    api(API + '/playlists/' + listId).then(function (p) {
      if (!c.alive) return;
      loadAllItems(c, listId, function (items) {
        var at = -1;
        items.forEach(function (it, i) { if (it.video.id === videoId) at = i; });
        nextId = at >= 0 && at + 1 < items.length ? items[at + 1].video.id : null;
        clear(head).appendChild(h('span', {},
          h('a', { href: '/p/' + p.id, class: 'pl-title' }, playlistTitle(p)),
          h('span', { class: 'meta' }, ' · ' + (at >= 0 ? at + 1 + ' / ' : '') + items.length)));
        items.forEach(function (it, i) {
          var cur = i === at;
          ol.appendChild(h('li', { class: cur ? 'current' : null },
            h('a', { href: '/watch/' + it.video.id + '?list=' + listId, 'aria-current': cur ? 'true' : null }, it.video.title)));
        });
        el.dataset.next = nextId || '';
        if (nextId) head.appendChild(h('span', { class: 'meta pl-next' }, ' · Next: ' + items[at + 1].video.title));
        var curLi = ol.querySelector('.current');
        if (curLi) ol.scrollTop = Math.max(0, curLi.offsetTop - ol.offsetTop - 40);
      }, function (err) { clear(head).appendChild(errorBox(err.message)); });
    }).catch(function (err) { if (c.alive) clear(head).appendChild(errorBox(err.message)); });
    return {
      el: el,
      next: function () { return nextId; }
    };
  }

  // ---------------------------------------------------------------------------------------
  // Channel page

  function pageChannel(c, params, query) {
    var username = params[0];
    var sec = h('section', { class: 'page channel' });
    c.main.appendChild(sec);
    sec.appendChild(h('h1', { tabindex: '-1', class: 'sr-only' }, 'Loading channel'));
    sec.appendChild(loadingLine('Loading channel…'));
    api(API + '/channels/' + encodeURIComponent(username)).then(function (ch) {
      if (!c.alive) return;
      showChannel(c, sec, ch, query);
    }).catch(function (err) {
      if (!c.alive) return;
      clear(sec);
      setTitle('Channel not found');
      sec.appendChild(h('h1', { tabindex: '-1' }, err.status === 404 ? 'Channel not found' : 'Could not load the channel'));
      sec.appendChild(errorBox(err.message, err.status === 404 ? null : function () { render(); }));
    });
  }

  var CHANNEL_TABS = [['videos', 'Videos'], ['posts', 'Posts'], ['playlists', 'Playlists']];

  function showChannel(c, sec, ch, query) {
    clear(sec);
    setTitle(displayName(ch));
    var mine = isMe(ch);
    var subs = h('span', { class: 'sub-count' }, counted(ch.subscriberCount, 'subscriber', 'subscribers'));
    sec.appendChild(h('div', { class: 'channel-banner' + (ch.bannerUrl ? '' : ' empty') },
      ch.bannerUrl ? h('img', { src: ch.bannerUrl, alt: '' }) : null));
    sec.appendChild(h('div', { class: 'channel-head' },
      avatar(ch, 'lg'),
      h('div', { class: 'channel-id' },
        h('h1', { tabindex: '-1' }, displayName(ch)),
        h('p', { class: 'meta' }, '@' + ch.username, ' · ', subs, ' · ', counted(ch.videoCount, 'video', 'videos'))),
      h('div', { class: 'channel-actions' },
        mine ? h('a', { href: '/account', class: 'button secondary' }, 'Edit channel') :
          subscribeButton(ch, function (n) { subs.textContent = counted(n, 'subscriber', 'subscribers'); }))));
    if (ch.bio) sec.appendChild(h('p', { class: 'bio' }, ch.bio));

    var tab = query.get('tab');
    if (!CHANNEL_TABS.some(function (t) { return t[0] === tab; })) tab = 'videos';
    var panel = h('div', { class: 'tab-panel', role: 'tabpanel', tabindex: '-1' });
    var tabs = h('div', { class: 'tabs', role: 'tablist', 'aria-label': 'Channel sections' });
    var buttons = CHANNEL_TABS.map(function (t) {
      var b = h('button', { type: 'button', role: 'tab', id: 'tab-' + t[0], class: 'tab', 'aria-controls': 'channel-panel', dataset: { tab: t[0] } }, t[1]);
      b.addEventListener('click', function () { select(t[0], true); });
      b.addEventListener('keydown', function (e) {
        var i = CHANNEL_TABS.indexOf(t), n = CHANNEL_TABS.length;
        if (e.key === 'ArrowRight' || e.key === 'ArrowLeft') {
          e.preventDefault();
          var j = (i + (e.key === 'ArrowRight' ? 1 : n - 1)) % n;
          buttons[j].focus();
          select(CHANNEL_TABS[j][0], true);
        }
      });
      tabs.appendChild(b);
      return b;
    });
    panel.id = 'channel-panel';
    sec.appendChild(tabs);
    sec.appendChild(panel);

    var sub = null; // the open tab's own context, closed when another opens
    function select(name, push) {
      buttons.forEach(function (b) {
        var on = b.dataset.tab === name;
        b.setAttribute('aria-selected', on ? 'true' : 'false');
        b.tabIndex = on ? 0 : -1;
        if (on) panel.setAttribute('aria-labelledby', b.id);
      });
      if (push) history.replaceState(null, '', channelHref(ch) + (name === 'videos' ? '' : qs({ tab: name })));
      if (sub) sub.close();
      sub = makeCtx(panel);
      c.onCleanup(sub.close);
      clear(panel);
      if (name === 'videos') channelVideos(sub, panel, ch, query.get('sort'));
      else if (name === 'posts') channelPosts(sub, panel, ch);
      else channelPlaylists(sub, panel, ch);
    }
    select(tab, false);
  }

  function channelVideos(c, panel, ch, sort) {
    if (['latest', 'popular', 'oldest'].indexOf(sort) < 0) sort = 'latest';
    var sortId = uid('vsort');
    var sel = h('select', { id: sortId, name: 'sort' },
      h('option', { value: 'latest' }, 'Latest'), h('option', { value: 'popular' }, 'Most viewed'), h('option', { value: 'oldest' }, 'Oldest'));
    sel.value = sort;
    var grid = h('ul', { class: 'video-grid' });
    var observe = lazyThumbs(c);
    var pl = pagedList(c, {
      list: grid,
      url: function (cursor) {
        return API + '/channels/' + encodeURIComponent(ch.username) + '/videos' + qs({ sort: sort, limit: PAGE_SIZE, cursor: cursor });
      },
      item: function (v) { return videoCard(v, observe, { hideOwner: true }); },
      empty: isMe(ch) ? 'You have not published any videos yet.' : 'No videos yet.',
      moreLabel: 'More videos',
      loadingText: 'Loading videos…'
    });
    sel.addEventListener('change', function () {
      sort = sel.value;
      history.replaceState(null, '', channelHref(ch) + (sort === 'latest' ? '' : qs({ sort: sort })));
      pl.reload();
    });
    panel.appendChild(h('div', { class: 'list-tools' }, h('div', { class: 'inline-field' }, h('label', { for: sortId }, 'Sort by'), sel)));
    panel.appendChild(pl.status);
    panel.appendChild(grid);
    panel.appendChild(pl.more);
    pl.reload();
  }

  function channelPosts(c, panel, ch) {
    var list = h('ul', { class: 'posts' });
    var pl = pagedList(c, {
      list: list,
      url: function (cursor) { return API + '/channels/' + encodeURIComponent(ch.username) + '/posts' + qs({ limit: 20, cursor: cursor }); },
      item: function (p) { return postItem(c, p, pl); },
      empty: 'No posts yet.',
      moreLabel: 'More posts',
      loadingText: 'Loading posts…'
    });
    if (isMe(ch)) {
      var tf = textForm({
        label: 'Write a post', name: 'body', max: 5000, submit: 'Post', busy: 'Posting…', rows: 3,
        placeholder: 'Share news with your subscribers',
        onSubmit: function (text) {
          return api(API + '/posts', { method: 'POST', body: { body: text } }).then(function (p) {
            list.insertBefore(postItem(c, p, pl), list.firstChild);
            pl.changed();
            announce('Post published.');
          });
        }
      });
      panel.appendChild(h('div', { class: 'panel post-box' }, tf.form));
    }
    panel.appendChild(pl.status);
    panel.appendChild(list);
    panel.appendChild(pl.more);
    pl.reload();
  }

  function postItem(c, p, pl) {
    var li = h('li', { class: 'post panel', dataset: { postId: p.id } });
    var note = rowNote();
    var editor = h('div', { class: 'comment-editor' });
    var thread = h('div', { class: 'post-thread', hidden: true });
    var threadLoaded = false;
    var canEdit = isMe(p.author);
    var canDelete = canEdit || (auth.user && auth.user.role === 'admin');
    var body = h('p', { class: 'post-body' }, p.body);
    var edited = h('span', {}, p.editedAt ? ' · edited' : '');
    var cmToggle = h('button', { type: 'button', class: 'chip', 'aria-expanded': 'false' });
    function paintToggle() { cmToggle.textContent = 'Comments · ' + fmtCount(p.commentCount || 0); }
    paintToggle();
    cmToggle.addEventListener('click', function () {
      thread.hidden = !thread.hidden;
      cmToggle.setAttribute('aria-expanded', thread.hidden ? 'false' : 'true');
      if (!thread.hidden && !threadLoaded) {
        threadLoaded = true;
        thread.appendChild(commentsSection(c, { kind: 'post', id: p.id, ownerId: p.author && p.author.id, enabled: true }));
      }
    });
    var actions = h('div', { class: 'comment-actions' }, likeButton(API + '/posts/' + p.id, p, 'post'), cmToggle);
    if (canEdit) {
      actions.appendChild(h('button', {
        type: 'button', class: 'chip', onclick: function () {
          if (editor.firstChild) { clear(editor); return; }
          var tf = textForm({
            label: 'Edit your post', max: 5000, value: p.body, submit: 'Save', busy: 'Saving…', keep: true,
            onCancel: function () { clear(editor); },
            onSubmit: function (text) {
              return api(API + '/posts/' + p.id, { method: 'PATCH', body: { body: text } }).then(function (np) {
                p.body = np.body;
                p.editedAt = np.editedAt;
                body.textContent = np.body;
                edited.textContent = np.editedAt ? ' · edited' : '';
                clear(editor);
                setNote(note, 'Post saved.');
              });
            }
          });
          editor.appendChild(tf.form);
          tf.input.focus();
        }
      }, 'Edit'));
    }
    if (canDelete) {
      actions.appendChild(h('button', {
        type: 'button', class: 'chip danger-text', onclick: function () {
          confirmDialog({ title: 'Delete this post?', body: 'Its comments go too. This cannot be undone.', confirm: 'Delete post', danger: true })
            .then(function (yes) {
              if (!yes) return;
              api(API + '/posts/' + p.id, { method: 'DELETE' }).then(function () {
                li.remove();
                pl.changed();
                announce('Post deleted.');
              }).catch(function (err) { setNote(note, err.message, true); });
            });
        }
      }, 'Delete'));
    }
    li.appendChild(h('div', { class: 'post-head' }, avatar(p.author, 'sm'),
      h('p', { class: 'comment-head' }, personLink(p.author, 'comment-author'),
        h('span', { class: 'meta' }, ' · ', h('time', { datetime: p.createdAt, title: fmtDateTime(p.createdAt) }, fmtDate(p.createdAt)), edited))));
    li.appendChild(body);
    li.appendChild(actions);
    li.appendChild(note);
    li.appendChild(editor);
    li.appendChild(thread);
    return li;
  }

  function playlistCard(p) {
    return h('li', { class: 'playlist-card', dataset: { playlistId: p.id } },
      h('a', { href: '/p/' + p.id, class: 'pl-link' },
        h('span', { class: 'pl-count' }, counted(p.itemCount, 'video', 'videos')),
        h('span', { class: 'pl-name' }, playlistTitle(p))),
      h('p', { class: 'meta' }, p.kind === 'watch_later' ? 'Only you see it' : visibilityWord(p.visibility),
        ' · updated ' + fmtDate(p.updatedAt || p.createdAt)));
  }

  function visibilityWord(vis) {
    return vis === 'private' ? 'Private' : vis === 'unlisted' ? 'Unlisted' : 'Public';
  }

  function channelPlaylists(c, panel, ch) {
    var list = h('ul', { class: 'playlist-grid' });
    var pl = pagedList(c, {
      list: list,
      url: function (cursor) { return API + '/channels/' + encodeURIComponent(ch.username) + '/playlists' + qs({ limit: PAGE_SIZE, cursor: cursor }); },
      item: playlistCard,
      empty: 'No public playlists.',
      moreLabel: 'More playlists',
      loadingText: 'Loading playlists…'
    });
    if (isMe(ch)) panel.appendChild(h('p', {}, h('a', { href: '/me/playlists' }, 'Manage your playlists')));
    panel.appendChild(pl.status);
    panel.appendChild(list);
    panel.appendChild(pl.more);
    pl.reload();
  }

  // ---------------------------------------------------------------------------------------
  // Subscriptions feed

  function pageFeed(c) {
    var sec = page('Subscriptions', 'The newest videos from the channels you follow.');
    var strip = h('ul', { class: 'sub-strip', 'aria-label': 'Channels you follow' });
    var grid = h('ul', { class: 'video-grid' });
    var observe = lazyThumbs(c);
    var owners = {};
    var subs = pagedList(c, {
      list: strip,
      url: function (cursor) { return API + '/users/me/subscriptions' + qs({ limit: 50, cursor: cursor }); },
      item: function (s) {
        var ch = s.channel;
        if (!ch || !ch.username) return null;
        owners[ch.id] = ch;
        return h('li', {}, h('a', { href: channelHref(ch), class: 'sub-chip' }, avatar(ch, 'sm'), h('span', {}, displayName(ch))));
      },
      moreLabel: 'More channels',
      loadingText: 'Loading your channels…',
      // The videos load after the first page of channels, whose cards name their owners.
      onPage: function (pg, first) { if (first) feed.reload(); },
      onFail: function (first) { if (first) feed.reload(); }
    });
    var feed = pagedList(c, {
      list: grid,
      url: function (cursor) { return API + '/feed' + qs({ limit: PAGE_SIZE, cursor: cursor }); },
      item: function (v) { return videoCard(v, observe, { owners: owners }); },
      empty: 'No videos here yet. Subscribe to channels and their new videos show up here.',
      moreLabel: 'Older videos',
      loadingText: 'Loading videos…'
    });
    sec.appendChild(strip);
    sec.appendChild(subs.more);
    sec.appendChild(feed.status);
    sec.appendChild(grid);
    sec.appendChild(feed.more);
    c.main.appendChild(sec);
    subs.reload();
  }

  // ---------------------------------------------------------------------------------------
  // Playlists: my list, one playlist

  function pageMyPlaylists(c) {
    var sec = page('Playlists', 'Your playlists, and Watch later. Save videos from the watch page.');
    var list = h('ul', { class: 'playlist-grid' });
    var pl = pagedList(c, {
      list: list,
      url: function (cursor) { return API + '/users/me/playlists' + qs({ limit: PAGE_SIZE, cursor: cursor }); },
      item: playlistCard,
      empty: 'No playlists yet.',
      moreLabel: 'More playlists',
      loadingText: 'Loading playlists…'
    });
    var tf = field({ label: 'Title', name: 'title', attrs: { required: true, maxlength: '200' } });
    var df = field({ label: 'Description', name: 'description', type: 'textarea', optional: true, attrs: { maxlength: '5000', rows: '2' } });
    var vf = field({ label: 'Visibility', name: 'visibility', type: 'select', value: 'private',
      options: [['private', 'Private: only you'], ['unlisted', 'Unlisted: anyone with the link'], ['public', 'Public: on your channel']] });
    var form = h('form', { class: 'form', novalidate: true }, formMessage(), tf.el, df.el, vf.el,
      h('div', { class: 'form-actions' }, h('button', { type: 'submit', class: 'button' }, 'Create playlist')));
    form.addEventListener('submit', function (e) {
      e.preventDefault();
      if (!validateForm(form, function () { return tf.input.value.trim() ? [] : [['title', 'Give the playlist a title.']]; })) return;
      setBusy(form, true, 'Creating…');
      var body = { title: tf.input.value.trim(), visibility: vf.input.value };
      if (df.input.value.trim()) body.description = df.input.value.trim();
      api(API + '/playlists', { method: 'POST', body: body }).then(function (p) {
        setBusy(form, false);
        form.reset();
        list.insertBefore(playlistCard(p), list.firstChild);
        pl.changed();
        setFormMessage(form, 'Playlist “' + p.title + '” created.', true);
      }).catch(function (err) { setBusy(form, false); showApiError(form, err); });
    });
    sec.appendChild(h('section', { class: 'panel', 'aria-labelledby': 'pl-new' }, h('h2', { id: 'pl-new' }, 'New playlist'), form));
    sec.appendChild(pl.status);
    sec.appendChild(list);
    sec.appendChild(pl.more);
    c.main.appendChild(sec);
    pl.reload();
  }

  function pagePlaylist(c, params) {
    var id = params[0];
    var sec = h('section', { class: 'page playlist' });
    c.main.appendChild(sec);
    if (!/^[0-9a-f]{24}$/.test(id)) {
      sec.appendChild(h('h1', { tabindex: '-1' }, 'Playlist not found'));
      sec.appendChild(h('p', {}, 'This address does not name a playlist.'));
      return;
    }
    sec.appendChild(h('h1', { tabindex: '-1', class: 'sr-only' }, 'Loading playlist'));
    sec.appendChild(loadingLine('Loading playlist…'));
    api(API + '/playlists/' + id).then(function (p) {
      if (!c.alive) return;
      showPlaylist(c, sec, p);
    }).catch(function (err) {
      if (!c.alive) return;
      clear(sec);
      setTitle('Playlist not found');
      sec.appendChild(h('h1', { tabindex: '-1' }, err.status === 404 ? 'Playlist not found' : 'Could not load the playlist'));
      sec.appendChild(errorBox(err.message, err.status === 404 ? null : function () { render(); }));
    });
  }

  function showPlaylist(c, sec, p) {
    clear(sec);
    setTitle(playlistTitle(p));
    var mine = isMe(p.owner);
    var title = h('h1', { tabindex: '-1' }, playlistTitle(p));
    var countEl = h('span', {}, counted(p.itemCount, 'video', 'videos'));
    var desc = h('p', { class: 'description' }, p.description || '');
    var play = h('a', { class: 'button play-all', href: '#', hidden: true }, 'Play all');
    var note = rowNote();
    var editor = h('div', { class: 'edit-holder' });
    var actions = h('div', { class: 'form-actions' }, play);
    sec.appendChild(h('div', { class: 'pl-header' }, title,
      h('p', { class: 'meta' }, 'by ', personLink(p.owner), ' · ', countEl, ' · ',
        p.kind === 'watch_later' ? 'Only you see it' : visibilityWord(p.visibility)),
      desc, actions, note, editor));

    if (mine && p.kind !== 'watch_later') {
      var editBtn = h('button', { type: 'button', class: 'button secondary', 'aria-expanded': 'false' }, 'Edit details');
      var delBtn = h('button', { type: 'button', class: 'button secondary danger-text' }, 'Delete playlist');
      actions.appendChild(editBtn);
      actions.appendChild(delBtn);
      editBtn.addEventListener('click', function () {
        if (editor.firstChild) { clear(editor); editBtn.setAttribute('aria-expanded', 'false'); return; }
        var tf = field({ label: 'Title', name: 'title', value: p.title, attrs: { required: true, maxlength: '200' } });
        var df = field({ label: 'Description', name: 'description', type: 'textarea', value: p.description || '', attrs: { maxlength: '5000', rows: '2' } });
        var vf = field({ label: 'Visibility', name: 'visibility', type: 'select', value: p.visibility,
          options: [['private', 'Private: only you'], ['unlisted', 'Unlisted: anyone with the link'], ['public', 'Public: on your channel']] });
        var form = h('form', { class: 'form edit-form', novalidate: true }, formMessage(), tf.el, df.el, vf.el,
          h('div', { class: 'form-actions' }, h('button', { type: 'submit', class: 'button' }, 'Save'),
            h('button', { type: 'button', class: 'button secondary', onclick: function () { clear(editor); editBtn.setAttribute('aria-expanded', 'false'); } }, 'Cancel')));
        form.addEventListener('submit', function (e) {
          e.preventDefault();
          if (!validateForm(form, function () { return tf.input.value.trim() ? [] : [['title', 'Give the playlist a title.']]; })) return;
          setBusy(form, true, 'Saving…');
          api(API + '/playlists/' + p.id, { method: 'PATCH', body: { title: tf.input.value.trim(), description: df.input.value.trim(), visibility: vf.input.value } })
            .then(function (np) {
              Object.assign(p, np);
              showPlaylist(c, sec, p);
              announce('Playlist saved.');
            }).catch(function (err) { setBusy(form, false); showApiError(form, err); });
        });
        editor.appendChild(form);
        editBtn.setAttribute('aria-expanded', 'true');
        tf.input.focus();
      });
      delBtn.addEventListener('click', function () {
        confirmDialog({ title: 'Delete this playlist?', body: '“' + p.title + '” goes; the videos in it stay.', confirm: 'Delete playlist', danger: true })
          .then(function (yes) {
            if (!yes) return;
            api(API + '/playlists/' + p.id, { method: 'DELETE' }).then(function () {
              announce('Playlist deleted.');
              navigate('/me/playlists');
            }).catch(function (err) { setNote(note, err.message, true); });
          });
      });
    }

    var ol = h('ol', { class: 'pl-items' });
    var status = h('div', { role: 'status' }, loadingLine('Loading videos…'));
    sec.appendChild(status);
    sec.appendChild(ol);
    var observe = lazyThumbs(c);
    var items = [];

    // Rows exist only once the items are loaded, so every call comes after the load.
    function paintRows() {
      clear(ol);
      items.forEach(function (it, i) { ol.appendChild(itemRow(it, i)); });
      // Empty as loaded, or once its last item is removed here (the page adds none).
      if (!items.length && !status.querySelector('.empty')) {
        status.insertBefore(h('p', { class: 'empty' }, 'This playlist is empty. Save videos to it from their watch page.'), status.firstChild);
      }
      play.hidden = !items.length;
      if (items.length) play.href = '/watch/' + items[0].video.id + '?list=' + p.id;
      countEl.textContent = counted(items.length, 'video', 'videos');
    }

    function itemRow(it, i) {
      var v = it.video;
      var href = '/watch/' + v.id + '?list=' + p.id;
      var li = h('li', { class: 'pl-item', dataset: { videoId: v.id } },
        h('span', { class: 'pl-pos', 'aria-hidden': 'true' }, String(i + 1)),
        h('a', { href: href, class: 'row-thumb', tabindex: '-1', 'aria-hidden': 'true' }, thumbBox(v, observe)),
        h('div', { class: 'pl-item-main' },
          h('h2', { class: 'row-title' }, h('a', { href: href }, v.title)),
          h('p', { class: 'meta' }, v.owner ? personLink(v.owner) : null, v.durationSec ? ' · ' + fmtDuration(v.durationSec) : '')));
      if (mine) {
        var rowMsg = rowNote();
        var label = '“' + v.title + '”';
        var up = h('button', { type: 'button', class: 'chip', 'aria-label': 'Move ' + label + ' up', disabled: i === 0, dataset: { dir: 'up' } }, '↑ Up');
        var down = h('button', { type: 'button', class: 'chip', 'aria-label': 'Move ' + label + ' down', disabled: i === items.length - 1, dataset: { dir: 'down' } }, '↓ Down');
        var rm = h('button', { type: 'button', class: 'chip danger-text', 'aria-label': 'Remove ' + label }, 'Remove');
        up.addEventListener('click', function () { move(i, i - 1, rowMsg, 'up'); });
        down.addEventListener('click', function () { move(i, i + 1, rowMsg, 'down'); });
        rm.addEventListener('click', function () {
          rm.disabled = true;
          api(API + '/playlists/' + p.id + '/items/' + v.id, { method: 'DELETE' }).then(function () {
            items.splice(i, 1);
            paintRows();
            announce('Removed ' + label + ' from the playlist.');
          }).catch(function (err) { rm.disabled = false; setNote(rowMsg, err.message, true); });
        });
        li.appendChild(h('div', { class: 'pl-controls' }, up, down, rm, rowMsg));
      }
      return li;
    }

    // Moves the item at `from` to `to` (next to it): the server takes the neighbour's position.
    function move(from, to, msg, dir) {
      var it = items[from], other = items[to];
      Array.prototype.forEach.call(ol.querySelectorAll('button'), function (b) { b.disabled = true; });
      api(API + '/playlists/' + p.id + '/items/' + it.video.id, { method: 'PATCH', body: { position: other.position } }).then(function () {
        var pos = it.position;
        it.position = other.position;
        other.position = pos;
        items[from] = other;
        items[to] = it;
        paintRows();
        var btn = ol.children[to].querySelector('[data-dir="' + dir + '"]:not([disabled])') ||
          ol.children[to].querySelector('[data-dir]:not([disabled])');
        if (btn) btn.focus();
        announce('Moved “' + it.video.title + '” to place ' + (to + 1) + '.');
      }).catch(function (err) {
        paintRows();
        setNote(ol.children[from].querySelector('.row-note'), err.message, true);
      });
    }

    loadAllItems(c, p.id, function (all, hidden) {
      items = all;
      clear(status);
      if (hidden) status.appendChild(h('p', { class: 'meta' }, counted(hidden, 'video is', 'videos are') + ' hidden: private or deleted.'));
      paintRows();
    }, function (err) { clear(status).appendChild(errorBox(err.message, function () { showPlaylist(c, sec, p); })); });
  }

  // ---------------------------------------------------------------------------------------
  // Account: the channel's bio, avatar and banner

  var IMAGE_TYPES = { jpg: 'image/jpeg', jpeg: 'image/jpeg', png: 'image/png', webp: 'image/webp' };

  function channelPanel(c, sec) {
    var box = h('section', { class: 'panel', 'aria-labelledby': 'acct-channel', id: 'acct-channel-panel' },
      h('h2', { id: 'acct-channel' }, 'Channel'),
      h('p', {}, 'What others see on ', h('a', { href: channelHref(auth.user) }, 'your channel'), '.'));
    var holder = h('div', {}, loadingLine('Loading your channel…'));
    box.appendChild(holder);
    sec.appendChild(box);

    // flash: {kind, text} to say in that image form once the channel is read again.
    function load(flash) {
      api(API + '/channels/' + encodeURIComponent(auth.user.username)).then(function (ch) {
        if (!c.alive) return;
        clear(holder);
        holder.appendChild(bioForm(ch));
        ['avatar', 'banner'].forEach(function (kind) {
          var f = imageForm(c, kind, ch, load);
          holder.appendChild(f);
          if (flash && flash.kind === kind) setFormMessage(f, flash.text, true);
        });
      }).catch(function (err) {
        if (!c.alive) return;
        clear(holder).appendChild(errorBox(err.message, function () { load(); }));
      });
    }
    load();
  }

  function bioForm(ch) {
    var bf = field({ label: 'Bio', name: 'bio', type: 'textarea', value: ch.bio || '', hint: 'A few words about you or your channel; up to 1000 characters.', attrs: { maxlength: '1000', rows: '3' } });
    var form = h('form', { class: 'form', novalidate: true }, formMessage(), bf.el,
      h('div', { class: 'form-actions' }, h('button', { type: 'submit', class: 'button' }, 'Save bio')));
    form.addEventListener('submit', function (e) {
      e.preventDefault();
      if (!validateForm(form)) return;
      setBusy(form, true, 'Saving…');
      api(API + '/users/me', { method: 'PATCH', body: { bio: bf.input.value.trim() } }).then(function (nu) {
        if (nu && nu.id) auth.user = Object.assign({}, auth.user, nu);
        setBusy(form, false);
        setFormMessage(form, 'Bio saved.', true);
      }).catch(function (err) { setBusy(form, false); showApiError(form, err); });
    });
    return form;
  }

  function imageForm(c, kind, ch, reload) {
    var isAvatar = kind === 'avatar';
    var has = isAvatar ? !!ch.avatarUrl : !!ch.bannerUrl;
    var id = uid('f-' + kind);
    var preview = isAvatar ? h('div', { class: 'img-preview avatar-preview' }, avatar(ch, 'lg')) :
      h('div', { class: 'img-preview channel-banner' + (has ? '' : ' empty') }, has ? h('img', { src: ch.bannerUrl, alt: '' }) : null);
    var input = h('input', { type: 'file', id: id, name: kind, accept: 'image/jpeg,image/png,image/webp', class: 'file-input', 'aria-describedby': id + '-hint ' + id + '-error' });
    var remove = h('button', { type: 'button', class: 'button secondary danger-text', hidden: !has }, isAvatar ? 'Remove avatar' : 'Remove banner');
    var form = h('form', { class: 'form image-form', novalidate: true, dataset: { kind: kind } },
      formMessage(),
      h('div', { class: 'field', dataset: { field: kind } },
        h('label', { for: id }, isAvatar ? 'Avatar' : 'Banner'),
        preview,
        input,
        h('p', { class: 'hint', id: id + '-hint' }, isAvatar ? 'A JPEG, PNG or WebP picture up to 5 MB; it is cut to a square.' :
          'A JPEG, PNG or WebP picture up to 5 MB; it is cut to 2048×512 (4:1).'),
        h('p', { class: 'field-error', id: id + '-error', hidden: true })),
      h('div', { class: 'form-actions' }, h('button', { type: 'submit', class: 'button' }, isAvatar ? 'Upload avatar' : 'Upload banner'), remove));
    var word = isAvatar ? 'Avatar' : 'Banner';

    form.addEventListener('submit', function (e) {
      e.preventDefault();
      var file = input.files && input.files[0];
      var ext = file ? (file.name.split('.').pop() || '').toLowerCase() : '';
      var type = file ? (file.type || IMAGE_TYPES[ext] || '') : '';
      if (!validateForm(form, function () {
        if (!file) return [[kind, 'Choose a picture first.']];
        if (['image/jpeg', 'image/png', 'image/webp'].indexOf(type) < 0) return [[kind, 'Choose a JPEG, PNG or WebP picture.']];
        if (file.size > 5 * 1000 * 1000) return [[kind, 'This picture is ' + fmtBytes(file.size) + '; the limit is 5 MB.']];
        return [];
      })) return;
      setBusy(form, true, 'Uploading…');
      api(API + '/users/me/' + kind, { method: 'PUT', raw: file, contentType: type }).then(function () {
        if (!c.alive) return;
        reload({ kind: kind, text: word + ' saved.' });
      }).catch(function (err) { setBusy(form, false); showApiError(form, err); });
    });
    remove.addEventListener('click', function () {
      remove.disabled = true;
      api(API + '/users/me/' + kind, { method: 'DELETE' }).then(function () {
        if (!c.alive) return;
        reload({ kind: kind, text: word + ' removed.' });
      }).catch(function (err) { remove.disabled = false; setFormMessage(form, err.message); });
    });
    return form;
  }

  // ---------------------------------------------------------------------------------------
  // Boot: restore the session from the refresh cookie, then show the page.

  refreshSession().then(function () {
    var boot = $('#boot-loading');
    if (boot) boot.remove();
    render();
  });
})();
