#!/usr/bin/env python3
# Listens on 127.0.0.1:PORT, accepts one connection, reads until a complete TLS ClientHello
# (reassembling handshake records) or, for non-TLS, the first read of >= 24 bytes, and writes
# the bytes as one line of lower-case hex. Usage: capture_first_bytes.py PORT OUT.hex
import socket, sys, binascii
# Accepts one connection, reads until a full TLS ClientHello (all records) or timeout, writes hex.
port=int(sys.argv[1]); out=sys.argv[2]
s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR,1); s.bind(('127.0.0.1',port)); s.listen(1)
c,_=s.accept(); c.settimeout(3)
buf=b''
try:
    while True:
        d=c.recv(65536)
        if not d: break
        buf+=d
        # parse records; stop when handshake length satisfied
        hs=b''; i=0
        while i+5<=len(buf) and buf[i]==0x16:
            l=int.from_bytes(buf[i+3:i+5],'big')
            if i+5+l>len(buf): break
            hs+=buf[i+5:i+5+l]; i+=5+l
        if len(hs)>=4 and len(hs)>=4+int.from_bytes(hs[1:4],'big'):
            buf=buf[:i]; break
        if buf[:1]!=b'\x16' and len(buf)>=24: break
except socket.timeout: pass
open(out,'w').write(binascii.hexlify(buf).decode()+'\n')
c.close()
