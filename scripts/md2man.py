#!/usr/bin/env python3
# SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
"""Turn one of xfsm's Markdown documents into a man page, so that the page
and the document cannot drift apart (xfsm.xfsm(5) is docs/language.md).

    md2man.py --name NAME --section N --title TEXT [--date D] [--source S]
              [--see-also 'a(1), b(8)'] IN.md OUT

It knows the Markdown the docs use: headings (#, ##, ###), paragraphs,
"- " lists, fenced and indented code blocks, pipe tables (as tbl tables),
definition lists (a `term` line followed by ": text"), `code`, **bold**,
*emphasis*, [links](file.md) and HTML comments.  Anything else is an error, so that a
new construct in the document cannot come out as garbage in the page.
"""
import argparse
import re
import sys


class Md2ManError(Exception):
    pass


def esc(text):
    """Escape text for roff (no inline markup)."""
    text = text.replace('\\', '\\e')
    text = text.replace('-', '\\-')
    return ''.join(c if ord(c) < 128 else '\\[u%04X]' % ord(c) for c in text)


def inline(text, path, lineno):
    """Inline Markdown to roff: `code` bold, **bold**, [text](target)."""
    out = []
    i = 0
    while i < len(text):
        c = text[i]
        if c == '`':
            j = text.find('`', i + 1)
            if j < 0:
                raise Md2ManError(f'{path}:{lineno}: unterminated `code`')
            out.append('\\fB' + esc(text[i + 1:j]) + '\\fR')
            i = j + 1
        elif text.startswith('**', i):
            j = text.find('**', i + 2)
            if j < 0:
                raise Md2ManError(f'{path}:{lineno}: unterminated **bold**')
            out.append('\\fB' + inline(text[i + 2:j], path, lineno) + '\\fR')
            i = j + 2
        elif c == '*' and re.match(r'\*[^*\s]([^*]*[^*\s])?\*(?![*\w])', text[i:]) and \
                (i == 0 or not text[i - 1].isalnum()):
            j = text.find('*', i + 1)
            out.append('\\fI' + inline(text[i + 1:j], path, lineno) + '\\fR')
            i = j + 1
        elif c == '[':
            m = re.match(r'\[([^\]]+)\]\(([^)\s]+)\)', text[i:])
            if not m:
                out.append('[')
                i += 1
                continue
            label, target = m.group(1), m.group(2)
            out.append(inline(label, path, lineno))
            doc = target.split('#')[0]
            if doc.endswith('.md'):
                where = doc if '/' in doc else 'docs/' + doc
                out.append(' (' + esc(where) + ')')
            elif doc.startswith('http'):
                out.append(' <' + esc(doc) + '>')
            i += m.end()
        elif c == '\\' and i + 1 < len(text) and text[i + 1] in '|`*_[]':
            out.append(esc(text[i + 1]))
            i += 2
        else:
            out.append(esc(c))
            i += 1
    return ''.join(out)


def text_line(s):
    """A roff text line: never starts with a control character."""
    s = s.strip()
    if s.startswith(('.', "'")):
        s = '\\&' + s
    return s


def split_row(line):
    cells = re.split(r'(?<!\\)\|', line.strip().strip('|'))
    return [c.strip().replace('\\|', '|') for c in cells]


def convert(lines, path):
    out = []
    i = 0
    n = len(lines)
    title_seen = False
    uses_tbl = False

    def para_break():
        if out and out[-1] not in ('.PP', '.SH', '.SS') and not out[-1].startswith(('.SH ', '.SS ')):
            out.append('.PP')

    while i < n:
        line = lines[i].rstrip('\n')
        lineno = i + 1
        stripped = line.strip()

        if not stripped:
            i += 1
            continue
        if re.fullmatch(r'!\[[^\]]*\]\([^)]*\)', stripped):
            # a picture (docs/img): a manual page shows none
            i += 1
            continue
        if stripped.startswith('<!--'):
            while '-->' not in lines[i]:
                i += 1
                if i >= n:
                    raise Md2ManError(f'{path}:{lineno}: unterminated comment')
            i += 1
            continue
        if line.startswith('# '):
            if title_seen:
                raise Md2ManError(f'{path}:{lineno}: a second level-1 heading')
            title_seen = True
            i += 1
            continue
        if line.startswith('## '):
            out.append('.SH "' + esc(line[3:].strip().upper()).replace('"', '') + '"')
            i += 1
            continue
        if line.startswith('### '):
            out.append('.SS "' + esc(line[4:].strip()).replace('"', '') + '"')
            i += 1
            continue
        if line.startswith('#'):
            raise Md2ManError(f'{path}:{lineno}: heading level not supported')

        # fenced code block
        if stripped.startswith('```'):
            indent = len(line) - len(line.lstrip())
            i += 1
            para_break()
            out.append('.RS 4')
            out.append('.nf')
            while i < n and not lines[i].strip().startswith('```'):
                code = lines[i].rstrip('\n')
                code = code[indent:] if code[:indent].strip() == '' else code.lstrip()
                out.append('\\&' + esc(code.replace('\t', '        ')))
                i += 1
            if i >= n:
                raise Md2ManError(f'{path}:{lineno}: unterminated code block')
            out.append('.fi')
            out.append('.RE')
            i += 1
            continue

        # indented code block (4 spaces or more, after a blank line)
        indent = len(line) - len(line.lstrip(' '))
        if indent >= 4 and (i == 0 or not lines[i - 1].strip()) and not stripped.startswith('|'):
            para_break()
            out.append('.RS 4')
            out.append('.nf')
            while i < n and (lines[i].strip() == '' or
                             len(lines[i]) - len(lines[i].lstrip(' ')) >= indent):
                if lines[i].strip() == '' and (i + 1 >= n or
                        len(lines[i + 1]) - len(lines[i + 1].lstrip(' ')) < indent):
                    break
                out.append('\\&' + esc(lines[i].rstrip('\n')[indent:]))
                i += 1
            out.append('.fi')
            out.append('.RE')
            continue

        # table
        if stripped.startswith('|'):
            rows = []
            while i < n and lines[i].strip().startswith('|'):
                rows.append(split_row(lines[i]))
                i += 1
            if len(rows) < 2 or not all(re.fullmatch(r':?-+:?', c) for c in rows[1]):
                raise Md2ManError(f'{path}:{lineno}: a table needs a header and a |---| line')
            ncol = len(rows[0])
            for r in rows:
                if len(r) != ncol:
                    raise Md2ManError(f'{path}:{lineno}: table rows differ in columns')
            uses_tbl = True
            para_break()
            out.append('.TS')
            # nokeep: a long table breaks between pages where it falls;
            # groff 1.22's keeps warn whenever a row lands on a page end
            out.append('tab(\t) nokeep;')
            out.append(' '.join(['lb'] * ncol))
            out.append(' '.join(['l'] * (ncol - 1) + ['lx']) + '.')
            out.append('\t'.join('T{\n' + text_line(inline(c, path, lineno)) + '\nT}'
                                 for c in rows[0]))
            for r in rows[2:]:
                out.append('\t'.join('T{\n' + text_line(inline(c, path, lineno)) + '\nT}'
                                     for c in r))
            out.append('.TE')
            continue

        # list
        if re.match(r'\s*- ', line):
            base = len(line) - len(line.lstrip())
            para_break() if not (out and out[-1].startswith('.IP')) else None
            while i < n and re.match(r'\s*- ', lines[i]) and \
                    len(lines[i]) - len(lines[i].lstrip()) == base:
                item = [lines[i].strip()[2:]]
                i += 1
                while i < n and lines[i].strip() and not re.match(r'\s*- ', lines[i]) and \
                        len(lines[i]) - len(lines[i].lstrip()) > base and \
                        not lines[i].strip().startswith('|'):
                    item.append(lines[i].strip())
                    i += 1
                out.append('.IP \\(bu 2')
                out.append(text_line(inline(' '.join(item), path, i)))
                # a table or paragraph continuing the item
                while i + 1 < n and not lines[i].strip() and \
                        len(lines[i + 1]) - len(lines[i + 1].lstrip()) > base and \
                        not re.match(r'\s*- ', lines[i + 1]):
                    i += 1
                    if lines[i].strip().startswith('|'):
                        break
                    cont = []
                    while i < n and lines[i].strip() and not lines[i].strip().startswith('|'):
                        cont.append(lines[i].strip())
                        i += 1
                    out.append('.IP')
                    out.append(text_line(inline(' '.join(cont), path, i)))
                while i < n and not lines[i].strip() and i + 1 < n and \
                        re.match(r'\s*- ', lines[i + 1]) and \
                        len(lines[i + 1]) - len(lines[i + 1].lstrip()) == base:
                    i += 1
                if i < n and lines[i].strip().startswith('|'):
                    break
            continue

        # definition: `term` line, then ": text"
        if i + 1 < n and lines[i + 1].startswith(': '):
            out.append('.TP')
            out.append(text_line(inline(stripped, path, lineno)))
            i += 1
            body = [lines[i][2:].strip()]
            i += 1
            while i < n and lines[i].strip() and not lines[i].startswith(('#', '|', '```')) \
                    and not (i + 1 < n and lines[i + 1].startswith(': ')):
                body.append(lines[i].strip())
                i += 1
            out.append(text_line(inline(' '.join(body), path, lineno)))
            continue
        if line.startswith(': '):
            raise Md2ManError(f'{path}:{lineno}: ": " without a term line before it')

        # paragraph (continuation of a definition when indented)
        para = []
        while i < n and lines[i].strip() and not lines[i].lstrip().startswith(('```', '|')) \
                and not re.match(r'\s*- ', lines[i]) and not lines[i].startswith('#') \
                and not (i + 1 < n and lines[i + 1].startswith(': ')):
            para.append(lines[i].strip())
            i += 1
        if line.startswith('  ') and out and out[-1] != '.PP':
            out.append('.IP')
        else:
            para_break()
        out.append(text_line(inline(' '.join(para), path, lineno)))
    return out, uses_tbl


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--name', required=True)
    ap.add_argument('--section', required=True)
    ap.add_argument('--title', required=True)
    ap.add_argument('--date', default='')
    ap.add_argument('--source', default='xfsm')
    ap.add_argument('--manual', default='')
    ap.add_argument('--see-also', default='')
    ap.add_argument('input')
    ap.add_argument('output')
    a = ap.parse_args()
    try:
        with open(a.input, encoding='utf-8') as f:
            lines = f.readlines()
        body, uses_tbl = convert(lines, a.input)
    except (Md2ManError, OSError) as e:
        print(f'md2man: {e}', file=sys.stderr)
        return 1
    page = []
    if uses_tbl:
        page.append("'\\\" t")
    page.append('.\\" SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)')
    page.append(f'.\\" Generated from {a.input} by scripts/md2man.py: edit that file.')
    page.append(f'.TH {a.name.upper()} {a.section} "{a.date}" "{a.source}" "{a.manual}"')
    page.append('.SH NAME')
    page.append(f'{esc(a.name)} \\- {esc(a.title)}')
    page.append('.SH DESCRIPTION')
    page.extend(body)
    if a.see_also:
        page.append('.SH "SEE ALSO"')
        refs = [r.strip() for r in a.see_also.split(',')]
        for k, r in enumerate(refs):
            m = re.fullmatch(r'([^()]+)\((\w+)\)', r)
            if not m:
                print(f'md2man: --see-also: "{r}" is not NAME(SECTION)', file=sys.stderr)
                return 1
            page.append(f'.BR {esc(m.group(1))} ({m.group(2)}){"," if k < len(refs) - 1 else ""}')
    # Drop empty paragraphs the conversion may leave before a heading.
    cleaned = []
    for ln in page:
        if ln.startswith(('.SH', '.SS', '.TP', '.IP')) and cleaned and cleaned[-1] == '.PP':
            cleaned.pop()
        cleaned.append(ln)
    with open(a.output, 'w', encoding='utf-8') as f:
        f.write('\n'.join(cleaned) + '\n')
    return 0


if __name__ == '__main__':
    sys.exit(main())
