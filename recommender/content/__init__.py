"""The content library in the core: files, text, passages, embeddings, tags, arrays, search."""
