#!/usr/bin/python3
"""power-cut-fs: a FUSE passthrough filesystem that forgets what was never fsynced.

In the spirit of LazyFS: every file lives in a backing directory, but data written through the
mount is held in memory (reads see it) and reaches the backing file only when that file is
fsynced or fdatasynced. Writing `cut` to the control file `/.power-cut` (at the mount's root)
discards every un-synced byte of every file at once, the way a power cut empties the page cache.

Semantics (see README.md next to this file):
- data written with write() is volatile until fsync/fdatasync of that same file;
- metadata operations (create, mkdir, unlink, rmdir, rename, chmod, truncate/ftruncate, O_TRUNC)
  go to the backing directory at once and survive a cut: the rig models "lost data", not "lost
  directory entries" (a real ext4 can lose an un-synced create too, so this is the milder model);
- a cut does not touch open file descriptors: they stay valid and now see the durable content.
  A cut is only meaningful once every writer is dead, as with a real power cut, so the rig
  SIGKILLs the process under test first and cuts after.
- `--fsync-delay-ms N` adds N ms to every fsync/fdatasync (slow SD-card storage).

Reading `/.power-cut` returns JSON counters (fsyncs, cuts, bytes discarded, bytes synced).
Needs Debian's fuse3 (fusermount) and python3-fusepy (libfuse2); run as root with /dev/fuse.
"""
import argparse
import errno
import json
import os
import sys
import threading
import time

from fusepy import FUSE, FuseOSError, Operations

PAGE = 4096
CONTROL = '/.power-cut'


class Node:
    """Volatile state of one file: its logical size and the pages written since its last fsync."""

    __slots__ = ('fd', 'size', 'dirty')

    def __init__(self, fd, size):
        self.fd = fd
        self.size = size
        self.dirty = {}


class PowerCutFS(Operations):
    use_ns = True

    def __init__(self, root, fsync_delay_ms=0):
        self.root = os.path.realpath(root)
        self.fsync_delay = fsync_delay_ms / 1000.0
        # One lock for everything: this is a test rig, clarity beats concurrency.
        self.mutex = threading.RLock()
        self.nodes = {}
        self.stats = {'fsyncs': 0, 'cuts': 0, 'discardedBytes': 0, 'discardedFiles': 0, 'syncedBytes': 0}

    # --- helpers -------------------------------------------------------------------------
    def _full(self, path):
        return os.path.join(self.root, path.lstrip('/'))

    def _node(self, path):
        node = self.nodes.get(path)
        if node is None:
            fd = os.open(self._full(path), os.O_RDWR)
            node = Node(fd, os.fstat(fd).st_size)
            self.nodes[path] = node
        return node

    def _forget(self, path):
        node = self.nodes.pop(path, None)
        if node is not None:
            os.close(node.fd)

    def _base_page(self, node, index):
        data = os.pread(node.fd, PAGE, index * PAGE)
        page = bytearray(PAGE)
        page[: len(data)] = data
        return page

    def _persist(self, node):
        """Write a file's dirty pages and logical size to the backing file, then fsync it."""
        for index in sorted(node.dirty):
            start = index * PAGE
            if start >= node.size:
                continue
            chunk = bytes(node.dirty[index][: min(PAGE, node.size - start)])
            os.pwrite(node.fd, chunk, start)
            self.stats['syncedBytes'] += len(chunk)
        if os.fstat(node.fd).st_size != node.size:
            os.ftruncate(node.fd, node.size)
        node.dirty.clear()
        os.fsync(node.fd)

    def _cut(self):
        for path, node in list(self.nodes.items()):
            if node.dirty or node.size != os.fstat(node.fd).st_size:
                self.stats['discardedFiles'] += 1
                self.stats['discardedBytes'] += len(node.dirty) * PAGE
            self._forget(path)
        self.stats['cuts'] += 1

    # --- the control file ----------------------------------------------------------------
    def _control_attr(self):
        now = time.time_ns()
        return {'st_mode': 0o100600, 'st_nlink': 1, 'st_size': 4096, 'st_uid': 0, 'st_gid': 0,
                'st_atime': now, 'st_mtime': now, 'st_ctime': now}

    # --- metadata: passed through at once ------------------------------------------------
    def getattr(self, path, fh=None):
        if path == CONTROL:
            return self._control_attr()
        with self.mutex:
            try:
                st = os.lstat(self._full(path))
            except OSError as e:
                raise FuseOSError(e.errno)
            attr = {key: getattr(st, key) for key in (
                'st_mode', 'st_nlink', 'st_uid', 'st_gid', 'st_size', 'st_blocks')}
            for key in ('st_atime', 'st_mtime', 'st_ctime'):
                attr[key] = getattr(st, key + '_ns') if hasattr(st, key + '_ns') else int(getattr(st, key) * 1e9)
            node = self.nodes.get(path)
            if node is not None:
                attr['st_size'] = node.size
            return attr

    def access(self, path, amode):
        if path != CONTROL and not os.access(self._full(path), amode):
            raise FuseOSError(errno.EACCES)

    def readdir(self, path, fh):
        return ['.', '..'] + os.listdir(self._full(path))

    def mkdir(self, path, mode):
        os.mkdir(self._full(path), mode)

    def rmdir(self, path):
        os.rmdir(self._full(path))

    def chmod(self, path, mode):
        os.chmod(self._full(path), mode)

    def chown(self, path, uid, gid):
        os.chown(self._full(path), uid, gid)

    def utimens(self, path, times=None):
        if path != CONTROL:
            os.utime(self._full(path), ns=times)

    def statfs(self, path):
        st = os.statvfs(self._full(path))
        return {key: getattr(st, key) for key in (
            'f_bavail', 'f_bfree', 'f_blocks', 'f_bsize', 'f_favail', 'f_ffree', 'f_files',
            'f_flag', 'f_frsize', 'f_namemax')}

    def unlink(self, path):
        with self.mutex:
            self._forget(path)
            os.unlink(self._full(path))

    def rename(self, old, new):
        with self.mutex:
            self._forget(new)
            os.rename(self._full(old), self._full(new))
            node = self.nodes.pop(old, None)
            if node is not None:
                self.nodes[new] = node

    def truncate(self, path, length, fh=None):
        if path == CONTROL:
            return
        with self.mutex:
            node = self._node(path)
            node.size = length
            for index in [i for i in node.dirty if i * PAGE >= length]:
                del node.dirty[index]
            # Zero the tail of a partial last page so a later extension reads zeros.
            last = length // PAGE
            if length % PAGE and last in node.dirty:
                node.dirty[last][length % PAGE:] = bytes(PAGE - length % PAGE)
            # The new size is durable at once; pages below it that are still dirty stay volatile.
            os.ftruncate(node.fd, length)

    # --- files -----------------------------------------------------------------------------
    def create(self, path, mode, fi=None):
        with self.mutex:
            self._forget(path)
            fd = os.open(self._full(path), os.O_RDWR | os.O_CREAT | os.O_TRUNC, mode)
            os.close(fd)
            return 0

    def open(self, path, flags):
        if path == CONTROL:
            return 0
        with self.mutex:
            try:
                self._node(path)
            except OSError as e:
                raise FuseOSError(e.errno)
            if flags & os.O_TRUNC:
                self.truncate(path, 0)
            return 0

    def read(self, path, size, offset, fh):
        if path == CONTROL:
            with self.mutex:
                return (json.dumps(self.stats) + '\n').encode()[offset:offset + size]
        with self.mutex:
            node = self._node(path)
            end = min(offset + size, node.size)
            if end <= offset:
                return b''
            out = bytearray(os.pread(node.fd, end - offset, offset))
            out.extend(bytes(end - offset - len(out)))  # beyond the durable end: zeros unless dirty
            for index in range(offset // PAGE, (end - 1) // PAGE + 1):
                page = node.dirty.get(index)
                if page is None:
                    continue
                lo = max(offset, index * PAGE)
                hi = min(end, (index + 1) * PAGE)
                out[lo - offset:hi - offset] = page[lo - index * PAGE:hi - index * PAGE]
            return bytes(out)

    def write(self, path, data, offset, fh):
        if path == CONTROL:
            command = data.decode(errors='replace').strip()
            with self.mutex:
                if command == 'cut':
                    self._cut()
                else:
                    raise FuseOSError(errno.EINVAL)
            return len(data)
        with self.mutex:
            node = self._node(path)
            pos = 0
            while pos < len(data):
                at = offset + pos
                index, within = divmod(at, PAGE)
                page = node.dirty.get(index)
                if page is None:
                    page = self._base_page(node, index) if index * PAGE < node.size else bytearray(PAGE)
                    node.dirty[index] = page
                n = min(PAGE - within, len(data) - pos)
                page[within:within + n] = data[pos:pos + n]
                pos += n
            node.size = max(node.size, offset + len(data))
            return len(data)

    def fsync(self, path, datasync, fh):
        if path == CONTROL:
            return 0
        with self.mutex:
            self.stats['fsyncs'] += 1
            node = self.nodes.get(path)
            if node is not None:
                self._persist(node)
        if self.fsync_delay:
            time.sleep(self.fsync_delay)
        return 0

    def fsyncdir(self, path, datasync, fh):
        return 0

    def flush(self, path, fh):
        return 0

    def release(self, path, fh):
        return 0


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('backing')
    parser.add_argument('mountpoint')
    parser.add_argument('--fsync-delay-ms', type=float, default=0)
    args = parser.parse_args()
    ops = PowerCutFS(args.backing, args.fsync_delay_ms)
    # No kernel attribute or entry caching: sizes change behind the kernel's back at a cut.
    FUSE(ops, args.mountpoint, foreground=True, nothreads=False, fsname='power-cut-fs',
         attr_timeout=0, entry_timeout=0, negative_timeout=0)


if __name__ == '__main__':
    sys.exit(main())
