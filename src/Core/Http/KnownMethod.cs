namespace Sidecar.Core.Http;

public enum KnownMethod : byte { Unknown, Get, Head, Post, Put, Delete, Connect, Options, Trace, Patch }
