"""Contact files as phones, Apple, Google and Outlook really write them, for the import tests."""

from __future__ import annotations

# An Android phone's export: vCard 2.1, CRLF, quoted-printable with soft line breaks in the
# middle of a word and of an address, bare 2.1 parameters (TEL;CELL;PREF), a birthday without a
# year, an inline photo folded over several lines, and a card in Latin-1 (CHARSET=ISO-8859-1).
ANDROID_21 = (
    "BEGIN:VCARD\r\n"
    "VERSION:2.1\r\n"
    "N;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:M=C3=BCller;J=C3=BCrgen;;Dr.;\r\n"
    "FN;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:Dr. J=C3=BCrgen M=C3=BCller\r\n"
    "TEL;WORK;VOICE:+49 30 9876543\r\n"
    "TEL;CELL;PREF:+49 170 1234567\r\n"
    "EMAIL;HOME:juergen.mueller@example.de\r\n"
    "ADR;WORK;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:;;Hauptstra=C3=9Fe 5=0D=0A=\r\n"
    "Hinterhaus;Berlin;;10115;Deutschland\r\n"
    "NOTE;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:Mag Kaffee schwarz, keine Milch. Fr=C3=BCh=\r\n"
    "st=C3=BCcks-Termine bevorzugt.\r\n"
    "BDAY:--0415\r\n"
    "PHOTO;ENCODING=BASE64;JPEG:/9j/4AAQSkZJRgABAQAAAQABAAD/2wBDAAgGBgcGBQgHBwcJCQgKDBQNDAsLDBkSEw8U\r\n"
    " HRofHh0aHBwgJC4nICIsIxwcKDcpLDAxNDQ0Hyc5PTgyPC4zNDL/2wBDAQkJCQwLDBgNDRgy\r\n"
    " IRwhMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjL/wAAR\r\n"
    "\r\n"
    "END:VCARD\r\n"
    "BEGIN:VCARD\r\n"
    "VERSION:2.1\r\n"
    "N;CHARSET=ISO-8859-1;ENCODING=QUOTED-PRINTABLE:Lef=E8vre;Fran=E7ois;;;\r\n"
    "TEL;HOME:01 42 68 53 00\r\n"
    "END:VCARD\r\n"
)

# Apple Contacts (macOS/iOS): vCard 3.0, LF only, grouped item labels (item1.TEL with
# item1.X-ABLabel), Apple's placeholder year for a birthday without one, custom dated labels,
# ORG with a unit, a photo as a URL, a folded NOTE, several typed TEL and EMAIL lines, and
# non-ASCII in every field.
APPLE_30 = (
    "BEGIN:VCARD\n"
    "VERSION:3.0\n"
    "PRODID:-//Apple Inc.//macOS 14.4//EN\n"
    "N:Σταυρόπουλος;Ελένη;;;\n"
    "FN:Ελένη Σταυρόπουλος\n"
    "ORG:Όμιλος Αθηνών;Προμήθειες\n"
    "TITLE:Υπεύθυνη αγορών\n"
    "EMAIL;type=INTERNET;type=WORK;type=pref:eleni@athens-group.gr\n"
    "EMAIL;type=INTERNET;type=HOME:ΕΛΕΝΗ.S@example.gr\n"
    "TEL;type=WORK;type=VOICE:+30 21 0123 4567\n"
    "item1.TEL:+30 69 1234 5678\n"
    "item1.X-ABLabel:_$!<Mobile>!$_\n"
    "item2.ADR;type=WORK;type=pref:;;Οδός Ερμού 10;Αθήνα;;105 63;Ελλάδα\n"
    "item2.X-ABADR:gr\n"
    "BDAY;X-APPLE-OMIT-YEAR=1604:1604-03-02\n"
    "item3.X-ABDATE;type=pref:2015-09-01\n"
    "item3.X-ABLabel:Έναρξη συνεργασίας\n"
    "item4.X-ABDATE:2010-06-12\n"
    "item4.X-ABLabel:_$!<Anniversary>!$_\n"
    "NOTE:Προτιμά συναντήσεις το πρωί\\, όχι Παρασκευή. Γνωριστήκαμε στην έκθεση\n"
    "  της Θεσσαλονίκης.\n"
    "CATEGORIES:Πελάτες,VIP\n"
    "PHOTO;VALUE=uri:https://example.gr/photos/eleni.jpg\n"
    "END:VCARD\n"
)

# Google Contacts' vCard export: N without FN, CATEGORIES with Google's own label, a
# Google item label, and CRLF.
GOOGLE_30 = (
    "BEGIN:VCARD\r\n"
    "VERSION:3.0\r\n"
    "N:García Márquez;Ana;;;\r\n"
    "EMAIL;TYPE=INTERNET;TYPE=WORK:ana.garcia@panaderia-delta.es\r\n"
    "item1.TEL:+34 912 345 678\r\n"
    "item1.X-ABLabel:Oficina\r\n"
    "ORG:Panadería Delta\r\n"
    "CATEGORIES:myContacts,Clientes\r\n"
    "END:VCARD\r\n"
)

# vCard 4.0 with a UTF-8 byte order mark: TEL as a tel: URI, PREF=1, ADR with a LABEL,
# ANNIVERSARY, a yearless BDAY, and a Chinese name.
VCARD_40_BOM = (
    "\ufeffBEGIN:VCARD\r\n"
    "VERSION:4.0\r\n"
    "FN:王小明\r\n"
    "N:王;小明;;;\r\n"
    "KIND:individual\r\n"
    'TEL;VALUE=uri;TYPE="cell,voice";PREF=1:tel:+86-138-0013-8000\r\n'
    "EMAIL;TYPE=work:xiaoming.wang@example.cn\r\n"
    'ADR;TYPE=work;LABEL="北京市朝阳区建国路88号\\n100022 北京":;;建国路88号;北京;;100022;中国\r\n'
    "BDAY:--0229\r\n"
    "ANNIVERSARY:20120520\r\n"
    "PHOTO:https://example.cn/wang.png\r\n"
    "END:VCARD\r\n"
)

# Google Contacts' CSV (the current export): several values in one cell joined with " ::: ",
# labels, a yearless birthday.
GOOGLE_CSV = (
    "First Name,Middle Name,Last Name,Nickname,Organization Name,Organization Title,"
    "Organization Department,Birthday,Notes,Labels,E-mail 1 - Label,E-mail 1 - Value,"
    "Phone 1 - Label,Phone 1 - Value,Phone 2 - Label,Phone 2 - Value,Address 1 - Label,"
    "Address 1 - Formatted\r\n"
    "Søren,,Kierkegaard,,Nordisk Kaffe,Indkøbschef,Indkøb,--05-05,"
    '"Foretrækker e-mail, ikke opkald",* myContacts ::: Kunder,Work,'
    "soren@nordisk-kaffe.dk ::: s.k@example.dk,Mobile,+45 20 12 34 56,Work,+45 33 12 34 56,Work,"
    '"Strøget 1\n1160 København K\nDanmark"\r\n'
    ",,,,,,,,,,,,,,,,,\r\n"
    "Ola,,Nordmann,,,,,1975-11-30,,* myContacts,,ola@example.no,,,,,,\r\n"
)

# Outlook's CSV export (English Outlook on Windows): Windows-1252, commas, Outlook's "0/0/00"
# for no birthday, and a birthday month first.
OUTLOOK_CSV = (
    "Title,First Name,Middle Name,Last Name,Suffix,Company,Department,Job Title,Business Street,"
    "Business City,Business State,Business Postal Code,Business Country/Region,Business Phone,"
    "Mobile Phone,Birthday,Categories,E-mail Address,E-mail Type,E-mail 2 Address,Notes\r\n"
    ',José,,Núñez,,Café Olé Ltd,Purchasing,Buyer,"12 Market St",Leeds,,LS1 6AA,United Kingdom,'
    "+44 113 496 0000,07700 900123,4/23/1981,Customers;Coffee,jose@cafeole.co.uk,SMTP,,"
    '"Met at the trade fair, likes “single origin”"\r\n'
    ",Zoë,,Smith,,,,,,,,,,,,0/0/00,,zoe@example.com,SMTP,,\r\n"
).encode("cp1252")

# A German Outlook CSV: semicolons, Windows-1252, German headers (not a known format: the
# rep maps its columns once).
GERMAN_CSV = (
    "Anrede;Vorname;Nachname;Firma;Position;E-Mail-Adresse;Telefon geschäftlich;Geburtstag;Notizen\r\n"
    "Herr;Jörg;Weiß;Bäckerei Weiß GmbH;Geschäftsführer;joerg@baeckerei-weiss.de;030 1234567;"
    "15.04.1970;Große Bestellung im März\r\n"
).encode("cp1252")
