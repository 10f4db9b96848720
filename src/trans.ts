import { nullTranslator, TranslationBundle } from '@jupyterlab/translation';
import * as React from 'react';

/** The gettext domain of this extension's strings (its Python package name). */
export const TRANS_DOMAIN = 'jupyter_smops';

/** The bundle used where no translator was handed in (tests, early errors): English. */
export const nullTrans: TranslationBundle = nullTranslator.load(TRANS_DOMAIN);

/**
 * The panel's translation bundle. `index.ts` provides the one loaded from JupyterLab's
 * `ITranslator`; components read it with `useTrans()` and wrap every user-facing string in
 * `trans.__('…')` (`trans._n` for counts, `%1` placeholders for values), as JupyterLab does.
 */
export const TransContext = React.createContext<TranslationBundle>(nullTrans);

/** The current translation bundle inside a panel component. */
export function useTrans(): TranslationBundle {
  return React.useContext(TransContext);
}

export type { TranslationBundle };
