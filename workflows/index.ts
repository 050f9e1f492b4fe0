export { importTask } from './import-task';
export { importTable } from './import-table';
export { importEngine } from './import-engine';
