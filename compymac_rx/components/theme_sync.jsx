// Applies the colour mode stored with the user's account (`stored`, "" until known) through
// Reflex's own colour-mode context, which also saves it in localStorage: from then on
// Reflex's pre-paint script in <head> sets it before the first paint, so a reload never
// flashes the other theme. It only reacts to the stored value changing: a choice made in this
// tab is applied at once by the control and then stored, and arrives here already in effect.
import { useContext, useEffect } from "react";
import { ColorModeContext } from "$/utils/context-registry";

export function ThemeSync({ stored }) {
  const { rawColorMode, setColorMode } = useContext(ColorModeContext);
  useEffect(() => {
    if (stored && stored !== rawColorMode) setColorMode(stored);
  }, [stored]);
  return null;
}
