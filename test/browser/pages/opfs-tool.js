// Appends latin1 `text` to rivulet/<name>/<file> in OPFS and answers the sizes before and after.
onmessage = async (e) => {
  const { name, file, text } = e.data;
  try {
    const root = await navigator.storage.getDirectory();
    const dir = await (await root.getDirectoryHandle('rivulet')).getDirectoryHandle(name);
    const h = await (await dir.getFileHandle(file)).createSyncAccessHandle();
    const before = h.getSize();
    h.write(Uint8Array.from(text, (c) => c.charCodeAt(0)), { at: before });
    h.flush();
    const after = h.getSize();
    h.close();
    postMessage({ before, after });
  } catch (err) {
    postMessage({ error: String(err) });
  }
};
