"""Read event files back with TensorBoard's own reader, the accumulator its server uses."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from tensorboard.backend.event_processing import data_provider, plugin_event_multiplexer
from tensorboard.backend.event_processing.plugin_event_accumulator import EventAccumulator
from tensorboard.plugins import base_plugin
from tensorboard.plugins.hparams import hparams_plugin
from tensorboard.plugins.hparams import metadata as hparams_metadata
from tensorboard.util import tensor_util
from werkzeug.test import Client

STATUSES = ["STATUS_UNKNOWN", "STATUS_SUCCESS", "STATUS_FAILURE", "STATUS_RUNNING"]


@dataclass
class Events:
    """One run folder's records, by tag."""

    scalars: dict[str, list[tuple[int, float]]] = field(default_factory=dict)  # (step, value)
    histograms: dict[str, list[tuple[int, np.ndarray]]] = field(default_factory=dict)  # (k, 3)
    images: dict[str, list[tuple[int, int, int]]] = field(default_factory=dict)  # (step, w, h)
    sessions: list[dict[str, Any]] = field(default_factory=list)  # hparams of each session

    def steps(self, tag: str) -> list[int]:
        return [step for step, _ in self.scalars.get(tag, [])]

    def last(self, tag: str) -> float:
        return self.scalars[tag][-1][1]


def read_events(folder: Path) -> Events:
    """Everything TensorBoard would show for the event files directly in `folder`."""
    acc = EventAccumulator(str(folder), size_guidance={"tensors": 0})  # 0: keep every event
    acc.Reload()
    events = Events()
    for tag in acc.Tags()["tensors"]:
        plugin = acc.SummaryMetadata(tag).plugin_data
        records = acc.Tensors(tag)
        arrays = [(r.step, tensor_util.make_ndarray(r.tensor_proto)) for r in records]
        if plugin.plugin_name == "scalars":
            events.scalars[tag] = [(step, float(a)) for step, a in arrays]
        elif plugin.plugin_name == "histograms":
            events.histograms[tag] = arrays
        elif plugin.plugin_name == "images":
            events.images[tag] = [(step, int(a[0]), int(a[1])) for step, a in arrays]
        elif tag == hparams_metadata.SESSION_START_INFO_TAG:
            info = hparams_metadata.parse_session_start_info_plugin_data(plugin.content)
            hparams = {k: getattr(v, v.WhichOneof("kind")) for k, v in info.hparams.items()}
            events.sessions += [hparams] * len(records)
    return events


class HParamsDashboard:
    """TensorBoard's HParams plugin over a log folder, asked what its dashboard asks (no server)."""

    def __init__(self, logdir: Path) -> None:
        mux = plugin_event_multiplexer.EventMultiplexer(tensor_size_guidance={"hparams": 0})
        mux.AddRunsFromDirectory(str(logdir))
        mux.Reload()
        provider = data_provider.MultiplexerDataProvider(mux, str(logdir))
        context = base_plugin.TBContext(logdir=str(logdir), multiplexer=mux,
                                        data_provider=provider)  # fmt: skip
        self.apps = hparams_plugin.HParamsPlugin(context).get_plugin_apps()

    def _post(self, route: str, request: dict[str, Any]) -> dict[str, Any]:
        response = Client(self.apps[route]).post(route, data=json.dumps(request),
                                                 content_type="application/json")  # fmt: skip
        assert response.status_code == 200, response.get_data(as_text=True)
        return json.loads(response.get_data())

    def columns(self) -> tuple[list[str], list[str]]:
        """(hparam names, metric tags) the table offers."""
        experiment = self._post("/experiment", {"experimentName": ""})
        hparams = [info["name"] for info in experiment["hparamInfos"]]
        return hparams, [info["name"]["tag"] for info in experiment["metricInfos"]]

    def rows(self, **only: list[str]) -> list[dict[str, Any]]:
        """Session groups, filtered as the table's checkboxes do, e.g. outcome=["diverged"]."""
        params = [{"hparam": name, "filterDiscrete": values} for name, values in only.items()]
        request = {"experimentName": "", "allowedStatuses": STATUSES, "colParams": params,
                   "startIndex": 0, "sliceSize": 1000}  # fmt: skip
        return self._post("/session_groups", request)["sessionGroups"]
