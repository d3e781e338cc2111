import { api, messageOf, setUnauthorizedHandler, statusOf } from './api.js';
import { byId, clear, h } from './dom.js';
import { t, toggleLang } from './i18n.js';
import { renderAlerts } from './alerts-view.js';
import { renderBoard } from './board-view.js';
import { renderHistory } from './history-view.js';
import { renderReport } from './report-view.js';
import { renderPlan } from './plan-view.js';
import { renderNotifications } from './notifications-view.js';
import { renderAudit } from './audit-view.js';
import { renderLogin } from './login-view.js';
import { renderPassword } from './password-view.js';
import { renderSensorDetail } from './sensor-detail.js';
import { renderSensorList } from './sensor-list.js';
import { renderSensorNew } from './sensor-new.js';
import { renderUsers } from './users-view.js';

const view = byId('view');
const nav = byId('nav');
const whoami = byId('whoami');
const logoutBtn = byId('logout');
const langBtn = byId('lang');

/** @type {import('./api.js').Session | undefined} */
let session;
let cleanup = () => {};

/** @param {import('./api.js').Session} session */
function navLinks(session) {
  const links = [['#/board', 'navBoard'], ['#/sensors', 'navSensors'], ['#/alerts', 'navAlerts'], ['#/history', 'navHistory'], ['#/report', 'navReport'], ['#/plan', 'navPlan'], ['#/notifications', 'navNotifications']];
  if (session.role !== 'staff') links.splice(1, 0, ['#/sensors/new', 'navNew']);
  if (session.role === 'admin') links.push(['#/users', 'navUsers'], ['#/audit', 'navAudit']);
  links.push(['#/password', 'changeOwnPassword'], ['/', 'navPublic']);
  clear(nav).append(...links.map(([href, key]) => h('a', { href, 'aria-current': location.hash === href ? 'page' : undefined }, t(key))));
  nav.hidden = false;
}

function chrome() {
  langBtn.textContent = t('lang');
  logoutBtn.textContent = t('signOut');
  document.title = t('title');
  const heading = document.querySelector('[data-i18n="title"]');
  if (heading) heading.textContent = t('title');
  if (session) {
    whoami.textContent = `${session.username} (${session.role})`;
    logoutBtn.hidden = false;
    navLinks(session);
  } else {
    whoami.textContent = '';
    logoutBtn.hidden = true;
    nav.hidden = true;
  }
}

async function route() {
  cleanup();
  cleanup = () => {};
  chrome();
  if (!session) return renderLogin(view, (s) => ((session = s), route()));
  const hash = location.hash || '#/sensors';
  try {
    let m;
    if (hash === '#/sensors') cleanup = renderSensorList(view, session) ?? cleanup;
    else if (hash === '#/sensors/new') await renderSensorNew(view);
    else if ((m = /^#\/sensor\/(.+)$/.exec(hash))) await renderSensorDetail(view, session, decodeURIComponent(m[1]));
    else if (hash === '#/board') cleanup = renderBoard(view, session) ?? cleanup;
    else if (hash === '#/alerts') await renderAlerts(view);
    else if (hash === '#/history') await renderHistory(view);
    else if (hash === '#/plan') await renderPlan(view);
    else if (hash === '#/notifications') await renderNotifications(view, session);
    else if (hash === '#/report' || hash.startsWith('#/report?')) renderReport(view, session);
    else if (hash === '#/users') await renderUsers(view);
    else if (hash === '#/audit') await renderAudit(view);
    else if (hash === '#/password') renderPassword(view);
    else location.hash = '#/sensors';
  } catch (err) {
    if (statusOf(err) !== 401) clear(view).append(h('p', { class: 'error', role: 'alert' }, statusOf(err) === 403 ? t('forbidden') : messageOf(err)));
  }
}

setUnauthorizedHandler(() => {
  session = undefined;
  route();
});
langBtn.addEventListener('click', () => {
  toggleLang();
  route();
});
logoutBtn.addEventListener('click', async () => {
  await api('DELETE', '/api/session').catch(() => {});
  session = undefined;
  route();
});
window.addEventListener('hashchange', route);

api('GET', '/api/session')
  .then((s) => (session = s))
  .catch(() => (session = undefined))
  .finally(route);
