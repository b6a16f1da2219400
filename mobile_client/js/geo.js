// The device's position, watched until it is good enough (accuracy better than GOOD_ENOUGH_M).
export const GOOD_ENOUGH_M = 50;

/**
 * Watch the position; `onUpdate({longitude, latitude, accuracy})`, `onError(code)` with code
 * "denied" | "unavailable" | "unsupported". Returns a function that stops watching.
 */
export function watch(onUpdate, onError) {
  if (!navigator.geolocation) {
    onError?.("unsupported");
    return () => {};
  }
  const id = navigator.geolocation.watchPosition(
    (position) => {
      const { longitude, latitude, accuracy } = position.coords;
      onUpdate({ longitude, latitude, accuracy });
    },
    (error) => onError?.(error.code === 1 ? "denied" : "unavailable"),
    { enableHighAccuracy: true, maximumAge: 10000, timeout: 30000 },
  );
  return () => navigator.geolocation.clearWatch(id);
}

/** One position, or null (no permission, no fix in `timeout` ms). */
export function once(timeout = 8000) {
  return new Promise((resolve) => {
    if (!navigator.geolocation) return resolve(null);
    navigator.geolocation.getCurrentPosition(
      (p) => resolve({ longitude: p.coords.longitude, latitude: p.coords.latitude, accuracy: p.coords.accuracy }),
      () => resolve(null),
      { enableHighAccuracy: false, maximumAge: 60000, timeout },
    );
  });
}
