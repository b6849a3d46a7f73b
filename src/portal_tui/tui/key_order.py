"""Keys typed ahead are handled in the order typed, each by the screen and the widget its
predecessors left in place: Enter on a matter then Down moves in the matter just opened; `n`
then letters types them into the form `n` opened; `/` then "01080" filters by "01080".

Textual hands each key to the widget focused when the key is read, without waiting for the key
before it to take effect: a key read while the previous one still opens a screen (or moves the
focus, or starts the worker that reads what a form needs) goes to the widget the user has left,
and is lost or does something else (a digit jumps section). Over SSH, where a burst of keys
arrives at once, that is most keys typed quickly.

So the app takes one key at a time: the next key is handed on only once the previous one has
been handled all the way up (its bindings have run), what it set going in the screen has been
handled (messages, focus moves), and any worker it started has opened its screen or finished —
or, so the app never goes deaf, HOLD_AT_MOST_S has passed.

This relies on how Textual 8.2.8 (pinned exactly) delivers keys: `App.on_event` receives each
key from the driver (not `is_forwarded`), runs priority bindings, then forwards it to the
focused widget; it bubbles back to the App, whose `_on_key` runs the other bindings. A Textual
upgrade must re-check that path (tests/tui/test_dead_keys.py fails if it changes).
"""

from __future__ import annotations

import asyncio
from collections import deque

from textual import events, on
from textual.app import App
from textual.message import Message
from textual.message_pump import MessagePump
from textual.worker import Worker

# Longest a key waits for the one before it (a worker reading a slow database, say): then it
# is handed on anyway. Generous, as a busy machine opens a screen slowly.
HOLD_AT_MOST_S = 5.0
# The app's quit keys' actions: these are not held behind a worker.
QUIT_ACTIONS = frozenset({"quit", "quit_anywhere", "interrupt"})
# How often a held key looks again at a worker its predecessor started.
_WORKER_LOOK_S = 0.005


class KeyDelivered(Message, bubble=True):
    """Posted behind a forwarded key to the same widget: it follows the key up the DOM, and
    reaching the App says the key has been handled (or stopped) on the way."""

    def __init__(self, key: events.Key) -> None:
        super().__init__()
        self.key = key


class OrderedKeysApp(App[None]):
    """An App that handles the keys typed one at a time, in order (see the module's note)."""

    def __init__(self) -> None:
        super().__init__()
        self._keys_waiting: deque[events.Key] = deque()
        self._key_in_flight: events.Key | None = None
        self._key_busy = False
        self._key_done: asyncio.Event | None = None
        self._key_task: asyncio.Task[None] | None = None
        self._cut_short = False

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, events.Key):
            if not event.is_forwarded:
                if self._key_busy and self._quits(event):
                    # Never held behind a worker (a database still opening): the keys before
                    # it have reached their widgets; quitting asks about what they changed.
                    self._cut_short = True
                self._keys_waiting.append(event)
                if not self._key_busy:
                    self._key_busy = True
                    # A task of its own: the App's queue goes on (it runs the key's bindings).
                    self._key_task = asyncio.create_task(self._hand_on_keys())
                return
            if event is self._key_in_flight:
                await super().on_event(event)  # back at the App: its bindings run now
                self._key_handled(event)
                return
        await super().on_event(event)

    @on(events.Unmount)
    def _drop_held_keys(self) -> None:
        if self._key_task is not None:
            self._key_task.cancel()  # the keys still waiting go with the app

    def on_key_delivered(self, message: KeyDelivered) -> None:
        message.stop()
        self._key_handled(message.key)  # stopped on the way (typed into a field)

    def _key_handled(self, key: events.Key) -> None:
        if key is self._key_in_flight and self._key_done is not None:
            self._key_in_flight = None
            self._key_done.set()

    async def _hand_on_keys(self) -> None:
        try:
            while self._keys_waiting and self.is_running:
                await self._hand_on(self._keys_waiting.popleft())
        except Exception as error:
            self._handle_exception(error)  # as Textual does for a handler's error
        finally:
            self._key_busy = False

    def _quits(self, key: events.Key) -> bool:
        active = self.screen.active_bindings.get(key.key)
        return active is not None and active.binding.action in QUIT_ACTIONS

    async def _hand_on(self, key: events.Key) -> None:
        if self._cut_short and not any(self._quits(k) for k in self._keys_waiting):
            self._cut_short = False  # the quit key itself, now being handled
        screen = self.screen
        workers = set(self.workers)
        target: MessagePump = self.focused or screen
        self._key_done = done = asyncio.Event()
        self._key_in_flight = key
        await super().on_event(key)  # Textual's own: priority bindings, or forwarded
        loop = asyncio.get_running_loop()
        deadline = loop.time() + HOLD_AT_MOST_S
        try:
            if key.is_forwarded:
                target.post_message(KeyDelivered(key))
                await asyncio.wait_for(done.wait(), HOLD_AT_MOST_S)
            await self._settled(screen, workers, deadline)
        except TimeoutError:
            pass  # handed on anyway: a deaf app is worse than a key out of order
        finally:
            self._key_in_flight = None

    async def _settled(self, screen: object, workers: set[Worker[object]], deadline: float) -> None:
        """What the key set going has been handled: every widget of the screen has handled
        what was posted to it (a focus move, a section opened), and each worker the key
        started has opened a screen or finished."""
        loop = asyncio.get_running_loop()
        await self._round(deadline - loop.time())
        started = [w for w in self.workers if w not in workers]
        while any(not w.is_finished for w in started) and self.screen is screen:
            if loop.time() > deadline or self._cut_short:
                return
            await asyncio.sleep(_WORKER_LOOK_S)
        if started or self.screen is not screen:
            await self._round(deadline - loop.time())  # the screen opened: its focus set

    async def _round(self, timeout: float) -> None:
        """Until the App and every widget of the top screen have handled their queues."""
        pumps: list[MessagePump] = [self, self.screen, *self.screen.walk_children()]
        waits: list[asyncio.Future[None]] = []
        loop = asyncio.get_running_loop()
        for pump in pumps:
            handled: asyncio.Future[None] = loop.create_future()
            if pump.call_later(_resolve, handled):
                waits.append(handled)
        if waits:
            await asyncio.wait_for(asyncio.gather(*waits), max(timeout, 0.0))
        # And the App once more: focus moves asked for meanwhile are callbacks of its own.
        last: asyncio.Future[None] = loop.create_future()
        if self.call_later(_resolve, last):
            await asyncio.wait_for(last, max(timeout, 0.0))


def _resolve(future: asyncio.Future[None]) -> None:
    if not future.done():  # (given up on meanwhile)
        future.set_result(None)
