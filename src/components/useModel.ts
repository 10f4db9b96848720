import { useEffect, useState } from 'react';

import { SmopsModel } from '../model';

/** Re-renders the calling component whenever the model changes. */
export function useModel(model: SmopsModel): SmopsModel {
  const [, setTick] = useState(0);
  useEffect(() => {
    const onChange = () => setTick(t => t + 1);
    model.changed.connect(onChange);
    return () => {
      model.changed.disconnect(onChange);
    };
  }, [model]);
  return model;
}
