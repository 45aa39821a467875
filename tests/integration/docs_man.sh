#!/bin/sh
# The man pages render without groff warnings and stay in step with the code:
# every config key the parser knows is in whepcam.conf(5) and docs/config.md,
# every key docs/config.md documents is one the parser accepts, and each
# program's --help and the OPTIONS of its page list the same options.
set -eu
BUILD=${BUILD:-build}
top=$(cd "$(dirname "$0")/../.." && pwd)
command -v groff >/dev/null || { echo "groff is missing (make installs groff-base)"; exit 1; }
for page in "$top"/docs/man/*.[58]; do
	warn=$(groff -man -Tutf8 -ww -z "$page" 2>&1)
	[ -z "$warn" ] || { echo "$page: $warn"; exit 1; }
done
python3 - "$top" "$BUILD" <<'PY'
import re, subprocess, sys
top, build = sys.argv[1], sys.argv[2]
read = lambda p: open(f'{top}/{p}').read()
man = lambda p: read(f'docs/man/{p}').replace('\\-', '-')
config_c = read('daemon/base/config.c')
parsed = set(re.findall(r'[DS]KEY\("([a-z-]+)"', config_c)) | set(re.findall(r'strcmp\(key, "([a-z-]+)"\)', config_c))
first_cells = re.findall(r'^\| (`[^|]*)\|', read('docs/config.md'), re.M)
documented = {k for cell in first_cells for k in re.findall(r'`([a-z-]+)`', cell)}
bad = []
conf5, whepcamd8, fcgi8 = man('whepcam.conf.5'), man('whepcamd.8'), man('whepcam-fcgi.8')
bad += [f'whepcam.conf(5) lacks key {k}' for k in sorted(parsed) if not re.search(rf'(?<![a-z-]){k}(?![a-z-])', conf5)]
bad += [f'docs/config.md lacks key {k}' for k in sorted(parsed - {'ice-address'}) if k not in documented]
bad += [f'docs/config.md documents {k}, which the parser rejects' for k in sorted(documented - parsed)]
OPT = r'(?<![a-z-])--[a-z][a-z-]*[a-z]'
def options(binary):
    out = subprocess.run([f'{build}/{binary}', '--help'], capture_output=True, text=True)
    return set(re.findall(OPT, out.stdout + out.stderr))
def man_options(page):
    m = re.search(r'^\.SH OPTIONS\n(.*?)^\.SH ', page, re.M | re.S)
    return set(re.findall(OPT, m.group(1))) if m else set()
checked = 0
for binary, page in (('whepcamd', whepcamd8), ('whepcam-fcgi', fcgi8)):
    helped, paged = options(binary), man_options(page)
    if not helped or not paged:
        bad.append(f'{binary}: no options found in --help ({len(helped)}) or in OPTIONS of its page ({len(paged)})')
    # --help itself is what prints the usage; it need not list itself.
    bad += [f'{binary}(8) lacks {o}, which --help lists' for o in sorted(helped - paged)]
    bad += [f'{binary} --help lacks {o}, which its page lists' for o in sorted(paged - helped - {'--help'})]
    checked += len(helped | paged)
print(f'{len(parsed)} config keys, {len(documented)} documented keys, {checked} options checked both ways')
if bad:
    print('\n'.join(bad)); sys.exit(1)
PY
