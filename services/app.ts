// The composition root lives in services/root/ (issue 16); tests, the demo and benches import the single process from here.
export { startKansui, type FullRole, type Kansui, type StartOptions } from './root/application.ts';
export { startRole, type KansuiProcess } from './root/start.ts';
