#!/usr/bin/env python3
"""A hostile router for the router test: answers SSDP, HTTP (the IGD
description and SOAP control) and NAT-PMP the way a broken or malicious
device on the LAN might, one way per run.

    fakerouter.py MODE LAN_ADDRESS READY_FILE

MODE: ssdp-offlan   the SSDP answer points at a URL outside the LAN
      desc-huge     the IGD description is 10 MB
      soap-huge     GetExternalIPAddress answers a 100 KB address
      soap-entity   GetExternalIPAddress answers XML with entities
      natpmp-size   NAT-PMP answers 8 bytes (no SSDP answer)
Writes READY_FILE once every socket is bound; runs until killed."""
import socket
import socketserver
import struct
import sys
import threading

mode, lan, ready = sys.argv[1], sys.argv[2], sys.argv[3]
HTTP_PORT = 5000

DESC = """<?xml version="1.0"?>
<root xmlns="urn:schemas-upnp-org:device-1-0">
<specVersion><major>1</major><minor>0</minor></specVersion>
<device><deviceType>urn:schemas-upnp-org:device:InternetGatewayDevice:1</deviceType>
<friendlyName>fake</friendlyName>
<deviceList><device><deviceType>urn:schemas-upnp-org:device:WANDevice:1</deviceType>
<deviceList><device><deviceType>urn:schemas-upnp-org:device:WANConnectionDevice:1</deviceType>
<serviceList><service>
<serviceType>urn:schemas-upnp-org:service:WANIPConnection:1</serviceType>
<serviceId>urn:upnp-org:serviceId:WANIPConn1</serviceId>
<controlURL>/ctl/IPConn</controlURL>
<eventSubURL>/evt/IPConn</eventSubURL>
<SCPDURL>/WANIPCn.xml</SCPDURL>
</service></serviceList>
</device></deviceList></device></deviceList></device></root>
"""


def soap(body_inner, doctype=""):
    return ('<?xml version="1.0"?>\r\n' + doctype +
            '<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/" '
            's:encodingStyle="http://schemas.xmlsoap.org/soap/encoding/"><s:Body>'
            '<u:GetExternalIPAddressResponse '
            'xmlns:u="urn:schemas-upnp-org:service:WANIPConnection:1">' + body_inner +
            '</u:GetExternalIPAddressResponse></s:Body></s:Envelope>\r\n')


def answer(path):
    if path.startswith("GET"):
        if mode == "desc-huge":
            return b"<?xml version=\"1.0\"?><root>" + b"x" * (10 * 1024 * 1024) + b"</root>"
        return DESC.encode()
    if mode == "soap-huge":
        return soap("<NewExternalIPAddress>" + "1" * 100000 +
                    "</NewExternalIPAddress>").encode()
    if mode == "soap-entity":
        doctype = ('<!DOCTYPE s [<!ENTITY a "203.0.113.9"><!ENTITY b "&a;&a;&a;&a;">]>')
        return soap("<NewExternalIPAddress>&b;</NewExternalIPAddress>", doctype).encode()
    return soap("<NewExternalIPAddress>203.0.113.9</NewExternalIPAddress>").encode()


class Http(socketserver.StreamRequestHandler):
    def handle(self):
        first = self.rfile.readline().decode("latin-1")
        length = 0
        while True:
            line = self.rfile.readline()
            if line in (b"\r\n", b"\n", b""):
                break
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":")[1])
        self.rfile.read(length)
        body = answer(first)
        head = ("HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\nContent-Length: %d\r\n"
                "Connection: close\r\n\r\n" % len(body)).encode()
        try:
            self.wfile.write(head + body)
        except OSError:
            pass  # the client stopped reading: what a capped client does


class HttpServer(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True


def ssdp():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("", 1900))
    mreq = socket.inet_aton("239.255.255.250") + socket.inet_aton(lan)
    s.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, mreq)
    return s


def serve_ssdp(s):
    host = "11.1.0.1" if mode == "ssdp-offlan" else lan
    while True:
        data, peer = s.recvfrom(2048)
        if not data.startswith(b"M-SEARCH") or mode == "natpmp-size":
            continue
        s.sendto(("HTTP/1.1 200 OK\r\nCACHE-CONTROL: max-age=120\r\n"
                  "ST: urn:schemas-upnp-org:device:InternetGatewayDevice:1\r\n"
                  "USN: uuid:fake::urn:schemas-upnp-org:device:InternetGatewayDevice:1\r\n"
                  "EXT:\r\nSERVER: fake\r\nLOCATION: http://%s:%d/rootDesc.xml\r\n\r\n" %
                  (host, HTTP_PORT)).encode(), peer)


def serve_natpmp(s):
    while True:
        data, peer = s.recvfrom(64)
        # Version 0, opcode 128, result 0, then 4 bytes: 4 short of 12.
        s.sendto(struct.pack("!BBHI", 0, 128, 0, 1), peer)


def main():
    http = HttpServer((lan, HTTP_PORT), Http)
    threads = [threading.Thread(target=http.serve_forever, daemon=True),
               threading.Thread(target=serve_ssdp, args=(ssdp(),), daemon=True)]
    if mode == "natpmp-size":
        pmp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        pmp.bind((lan, 5351))
        threads.append(threading.Thread(target=serve_natpmp, args=(pmp,), daemon=True))
    for t in threads:
        t.start()
    with open(ready, "w") as f:
        f.write("ready\n")
    threading.Event().wait()


main()
