// Slugs from Vietnamese names: NFD, combining marks removed, đ→d, lowercase, non-alphanumerics → '-'.

const ADMIN_PREFIXES = ['tỉnh', 'thành phố', 'huyện', 'thị xã', 'quận'];

export function slugify(name: string, maxLength = 64): string {
  return name
    .normalize('NFD')
    .replace(/\p{M}/gu, '')
    .replace(/[đĐ]/g, 'd')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, maxLength)
    .replace(/-+$/g, '');
}

/** Name without its administrative prefix: "Tỉnh Vĩnh Phúc" → "Vĩnh Phúc", "Huyện Lập Thạch" → "Lập Thạch". */
export function stripAdminPrefix(name: string): string {
  const trimmed = name.trim();
  const lower = trimmed.toLocaleLowerCase('vi');
  for (const prefix of ADMIN_PREFIXES) {
    if (lower.startsWith(`${prefix} `)) return trimmed.slice(prefix.length + 1).trim();
  }
  return trimmed;
}

/** Slug of a province or district, used as an InfluxDB tag ("Tỉnh Vĩnh Phúc" → "vinh-phuc"). */
export function adminSlug(name: string): string {
  return slugify(stripAdminPrefix(name));
}
