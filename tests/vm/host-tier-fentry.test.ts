// tests/host inside the Debian 6.1 guest with --attach fentry (see host-tier.ts).
import { hostTierSuite } from "./host-tier";

hostTierSuite("fentry");
