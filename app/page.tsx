import { Dashboard } from '../components/dashboard/Dashboard.tsx';

export default function Page() {
  return <Dashboard />;
}
