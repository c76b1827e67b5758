import type { ReactNode } from 'react';

export function StateEmpty({ title, children }: { title: string; children?: ReactNode }) {
  return (
    <div className="state" data-kind="empty">
      <div className="state-title">{title}</div>
      {children && <div>{children}</div>}
    </div>
  );
}
