#!/usr/bin/env bash
# Translations of the interface (Flask-Babel; msgids are the English text, French is the one
# catalogue). Refresh everything after changing strings in the code or the templates:
#
#   bash scripts/i18n.sh all            # = extract, update, compile
#
# or step by step:
#
#   bash scripts/i18n.sh extract [POT]  # sources -> commons/translations/messages.pot (or POT)
#   bash scripts/i18n.sh update         # messages.pot -> commons/translations/*/LC_MESSAGES/messages.po
#   bash scripts/i18n.sh compile        # messages.po -> messages.mo (fails on a broken placeholder)
#
# Then translate whatever `update` added (empty msgstr in fr/LC_MESSAGES/messages.po), compile
# again, and run tests/test_i18n.py, which fails while a string is missing or untranslated.
#
# The output is deterministic: sorted, file locations without line numbers, and a catalogue
# whose only change would be its POT-Creation-Date is left untouched, so rerunning the
# commands on unchanged sources changes no file.
set -euo pipefail

usage() {
  sed -n '2,14s/^# \{0,1\}//p' "$0" >&2
  exit 2
}

[ $# -ge 1 ] || usage
command=$1
shift

# An output path given relative to where the script was called from.
out=""
if [ "$command" = extract ] && [ $# -ge 1 ]; then
  case $1 in
    /*) out=$1 ;;
    *) out=$PWD/$1 ;;
  esac
  shift
fi
[ $# -eq 0 ] || usage

cd "$(dirname "$0")/.."
PYBABEL=${PYBABEL:-.venv/bin/pybabel}
PYTHON=${PYTHON:-.venv/bin/python}
TRANSLATIONS=commons/translations
POT=$TRANSLATIONS/messages.pot
LOCALES=(fr)

# What marks a translatable string. The gettext family as Flask-Babel names it, and every
# domain error class of commons/errors.py: their first argument is a msgid, translated when
# the error is shown (CommonsError.message). A new error class must be added here.
KEYWORDS=(
  _ N_ gettext ngettext:1,2 pgettext:1c,2 npgettext:1c,2,3
  lazy_gettext _l lazy_ngettext:1,2 lazy_pgettext:1c,2
  CommonsError Unauthorized Forbidden NotFound PracticeNotFound ValidationError
  LicenseRequired Conflict SlugTaken EditConflict LockTimeout TooLarge AccountBlocked Gone
)

tmp=""
trap '[ -z "$tmp" ] || rm -f "$tmp"' EXIT

same_except_creation_date() {
  [ -f "$1" ] && [ -f "$2" ] && cmp -s <(grep -v '^"POT-Creation-Date: ' "$1") \
                                        <(grep -v '^"POT-Creation-Date: ' "$2")
}

extract() {
  local target=${out:-$POT} keyword_args=() version
  version=$(sed -n 's/^version = "\(.*\)"$/\1/p' pyproject.toml | head -n 1)
  for keyword in "${KEYWORDS[@]}"; do
    keyword_args+=(-k "$keyword")
  done
  mkdir -p "$(dirname "$target")"
  tmp=$(mktemp "$target.XXXXXX")
  "$PYBABEL" -q extract -F babel.cfg --no-default-keywords "${keyword_args[@]}" \
    --sort-output --add-location=file \
    --project=Commons --version="${version:-0}" \
    --copyright-holder="the Commons contributors" \
    --ignore-dirs='.* _* instance build dist node_modules' \
    -o "$tmp" .
  if same_except_creation_date "$tmp" "$target"; then
    rm -f "$tmp"
    echo "$target: no change"
  else
    mv "$tmp" "$target"
    echo "$target: written ($(grep -c '^msgid ' "$target") entries, header included)"
  fi
}

update() {
  [ -f "$POT" ] || { echo "no $POT: run '$0 extract' first" >&2; exit 1; }
  for locale in "${LOCALES[@]}"; do
    "$PYBABEL" -q update -i "$POT" -d "$TRANSLATIONS" -D messages -l "$locale" \
      --init-missing --no-fuzzy-matching --ignore-pot-creation-date
    local po=$TRANSLATIONS/$locale/LC_MESSAGES/messages.po
    local untranslated
    local todo
    todo=$("$PYTHON" - "$po" <<'EOF'
import sys
from babel.messages.pofile import read_po

with open(sys.argv[1], "rb") as fh:
    catalog = read_po(fh)
todo = [m for m in catalog if m.id and (m.fuzzy or not (
    all(m.string) if isinstance(m.string, tuple) else m.string))]
print(len(todo))
EOF
)
    echo "$po: updated; $todo entries to translate"
  done
}

compile() {
  for locale in "${LOCALES[@]}"; do
    "$PYBABEL" compile -d "$TRANSLATIONS" -D messages -l "$locale" --statistics
  done
}

case $command in
  extract) extract ;;
  update) update ;;
  compile) compile ;;
  all) extract; update; compile ;;
  *) usage ;;
esac
