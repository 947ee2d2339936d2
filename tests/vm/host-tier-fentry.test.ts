// tests/host inside the Debian 6.1 guest with --attach fentry (see host-tier.ts): every
// file, those after the ring too (fentry is what --attach auto takes there).
import { hostTierSuite } from "./host-tier";

hostTierSuite("fentry", true);
