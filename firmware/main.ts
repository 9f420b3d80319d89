// The core module: what the boot loader starts. Boots the state machine and publishes the REPL
// object `edgent`: the device commands (status, connect, ...) added to the cloud API object, which
// already exists for the user's code (one object rather than two copies of the same methods).
import { bootEdgent } from "./edgent";
import { cloudApi } from "./cloud/api";
import { publish } from "./platform/espruino";

/** Called by the loader with the image file and its module table ("name,offset,length,..."). */
export function boot(image: string, modules: string): void {
  var api: any = cloudApi();
  var commands = bootEdgent(image, modules);
  for (var k in commands) api[k] = commands[k];
  publish("edgent", api);
}
