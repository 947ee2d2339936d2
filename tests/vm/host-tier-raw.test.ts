// tests/host inside the Debian 6.1 guest with --attach raw (see host-tier.ts).
import { hostTierSuite } from "./host-tier";

hostTierSuite("raw");
