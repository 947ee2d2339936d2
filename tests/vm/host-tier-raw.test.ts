// tests/host inside the Debian 6.1 guest with --attach raw (see host-tier.ts):
// the files the attach mode bears on, and its share of the rest.
import { hostTierSuite } from "./host-tier";

hostTierSuite("raw");
