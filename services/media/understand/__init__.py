"""Understanding media: voice notes to text, the text in images (and payment receipts), documents to text."""
