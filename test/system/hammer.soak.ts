// Soak: the portal hammered for a minute of device time (see hammer.ts).
import { describeHammer } from "./hammer.ts";

describeHammer({ ms: 60000, configAt: [5100, 8900, 12300, 17700, 21300, 26100, 31900, 38700, 44100, 50900, 55500] });
