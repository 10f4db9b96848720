import { ISettingRegistry } from '@jupyterlab/settingregistry';

/** The user's preferences (schema/plugin.json), read by the panel and commands. */
export interface ISmopsSettings {
  /** Where Deploy targets by default: a local endpoint or SageMaker (aws backend only). */
  defaultBackend: 'local' | 'aws';
  /** The bucket the user expects; the header warns when the server uses another. */
  bucket: string;
  instanceType: string;
  /** The owner tag key the user expects (ABAC); the header warns when the server differs. */
  ownerTagKey: string;
}

export const DEFAULT_SETTINGS: ISmopsSettings = {
  defaultBackend: 'local',
  bucket: '',
  instanceType: 'ml.t2.medium',
  ownerTagKey: 'studiouserid'
};

export function readSettings(settings: ISettingRegistry.ISettings): ISmopsSettings {
  const composite = settings.composite as Partial<ISmopsSettings>;
  return { ...DEFAULT_SETTINGS, ...composite };
}
