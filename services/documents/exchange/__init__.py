"""edXML exchange of the documents service: packages to and from other agencies over the
national document axis (QCVN 102:2016), behind an adapter (a file drop here and in tests)."""
