import { LabIcon } from '@jupyterlab/ui-components';

import smopsSvg from '../style/icons/smops.svg';

/** The panel's own icon: a model cube going up to the cloud. */
export const smopsIcon = new LabIcon({ name: 'jupyter-smops:icon', svgstr: smopsSvg });
