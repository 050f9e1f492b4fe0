export { importTask } from './import-task';
export { importTable } from './import-table';
