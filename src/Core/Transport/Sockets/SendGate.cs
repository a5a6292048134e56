namespace Sidecar.Core.Transport.Sockets;

/// <summary>
/// Who may call send on one socket, and whether it waits for a writable edge — in ONE word, so the loop's check of an
/// EPOLLOUT edge cannot fall between the sender's "I wait for writable" and its "I am done".
/// <para>
/// The race this shape removes: with a separate "waiting" flag and owner counter, the sender wrote the flag and then
/// released the counter, while the loop read the flag and then the counter. An edge handled in between (flag read
/// before the sender set it, counter read after the sender released it) looked like "nobody sends, nobody waits";
/// the edge was dropped, and with edge-triggered epoll no further edge would come. (A narrow window — not the cause of
/// the Upload_100MB stall, which was the EAGAIN path hiding the unsent tail from TryRead; see SendPending.) Here the
/// sender leaves with one atomic add that both releases ownership and sets <see cref="Waiting"/>, so the loop sees an
/// owner (who is told to go again) or the waiting bit.
/// </para>
/// Layout: bits 0–29 count send requests (the first requester owns the socket, later ones ask the owner to go again);
/// bit 30 is <see cref="Waiting"/>; a negative value means closed (no send may ever start again).
/// </summary>
internal struct SendGate
{
    private const int Waiting = 1 << 30;
    private const int CountMask = Waiting - 1;
    private const int Closed = int.MinValue / 2;

    private int _state;

    /// <summary>Asks for a send; true if the caller now owns the socket and must send (then call <see cref="Leave"/>).</summary>
    public bool TryEnter()
    {
        int s = Interlocked.Increment(ref _state);
        return s > 0 && (s & CountMask) == 1;
    }

    /// <summary>
    /// The owner is about to try the socket: it no longer waits for an edge (it will see for itself). Call at the
    /// start of each pass, before the first send.
    /// </summary>
    public void BeginPass()
    {
        if ((Volatile.Read(ref _state) & Waiting) != 0) Interlocked.And(ref _state, ~Waiting);
    }

    /// <summary>
    /// The owner ends a pass that served <paramref name="requests"/> requests. <paramref name="blocked"/>: the kernel
    /// took less than offered (EAGAIN or a short write), so the next writable edge must start a send. Returns the
    /// requests that arrived meanwhile (go again, still owning), or 0 when ownership was given up.
    /// </summary>
    public int Leave(int requests, bool blocked)
    {
        int left = Interlocked.Add(ref _state, (blocked ? Waiting : 0) - requests);
        return left < 0 ? 0 : left & CountMask;
    }

    /// <summary>
    /// Loop thread, on EPOLLOUT/ERR/HUP: true if someone waits for this edge or a send is in progress — then the loop
    /// asks for a send (<see cref="TryEnter"/>), which either makes it the owner or makes the current owner go again.
    /// </summary>
    public readonly bool WantsWritableEdge => Volatile.Read(in _state) > 0;

    /// <summary>Loop thread: stops all future sends; false if a sender is active (it re-posts the close when it leaves).</summary>
    public bool TryClose()
    {
        while (true)
        {
            int s = Volatile.Read(ref _state);
            if (s < 0) return true;
            if ((s & CountMask) != 0) return false;
            if (Interlocked.CompareExchange(ref _state, Closed, s) == s) return true;
        }
    }
}
