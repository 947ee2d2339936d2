// The package records of module files the scan checks against: dpkg's where
// there is a dpkg database, else rpm's.
import { packageRecords, type PackageRecord } from "../findings/package-records";
import { rpmModuleRecords } from "../findings/rpm-records";

export function moduleRecords(): Map<string, PackageRecord> | string {
  const dpkg = packageRecords();
  if (typeof dpkg !== "string") return dpkg;
  const rpm = rpmModuleRecords();
  return typeof rpm === "string" ? `${dpkg}; ${rpm}` : rpm;
}
