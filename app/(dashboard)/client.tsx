'use client';

import { useQuery } from '@tanstack/react-query';
import { useQueryStates } from 'nuqs';
import { ChartBarDeadLetters } from '@/components/charts/chart-bar-dead-letters';
import { ChartBarOutcomes } from '@/components/charts/chart-bar-outcomes';
import { ChartBarRetryRate } from '@/components/charts/chart-bar-retry-rate';
import { ChartLineAckLatency } from '@/components/charts/chart-line-ack-latency';
import { ChartLineDeliveryLag } from '@/components/charts/chart-line-delivery-lag';
import { GridKpis } from '@/components/grid-kpis';
import { PanelPatternHealth } from '@/components/panel-pattern-health';
import { PanelPayloadDrift } from '@/components/panel-payload-drift';
import { PanelRejectionCauses } from '@/components/panel-rejection-causes';
import { PanelSandboxOutage } from '@/components/panel-sandbox-outage';
import { PickerTimeRange } from '@/components/picker-time-range';
import { SelectEventType } from '@/components/select-event-type';
import { SelectSource } from '@/components/select-source';
import { StateError } from '@/components/state-error';
import { StateLoading } from '@/components/state-loading';
import { StatusVerdict } from '@/components/status-verdict';
import { summaryOptions } from '@/lib/queries/metrics';
import { overviewParsers } from './search-params';

export function OverviewClient() {
  const [params, set] = useQueryStates(overviewParsers);
  const summary = useQuery(summaryOptions(params));

  return (
    <>
      <div className="page-head">
        <h1>Overview</h1>
        <div className="toolbar">
          <PickerTimeRange value={params} onChange={({ range, from, to }) => set({ range, from, to })} />
          <SelectSource value={params.source} onChange={(source) => set({ source })} />
          <SelectEventType value={params.event_type} onChange={(event_type) => set({ event_type })} />
        </div>
      </div>
      <StatusVerdict />
      <PanelSandboxOutage />
      {summary.isPending ? (
        <StateLoading label="Loading summary" rows={2} />
      ) : summary.isError ? (
        <div className="panel" style={{ marginBottom: '1rem' }}>
          <StateError error={summary.error} onRetry={() => summary.refetch()} />
        </div>
      ) : (
        <>
          <GridKpis summary={summary.data} eventType={params.event_type} />
          <PanelPatternHealth summary={summary.data} />
          <PanelRejectionCauses causes={summary.data.rejection_causes} />
        </>
      )}
      <div className="grid-charts">
        <ChartLineAckLatency filters={params} />
        <ChartLineDeliveryLag filters={params} />
        <ChartBarOutcomes filters={params} />
        <ChartBarRetryRate filters={params} />
        <ChartBarDeadLetters filters={params} />
      </div>
      <PanelPayloadDrift filters={params} />
    </>
  );
}
